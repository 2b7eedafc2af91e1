/** A page renders into the main element; what it returns stops its timers and streams. */
export type Cleanup = () => void;
export type Page = (
  main: HTMLElement,
  route: { path: string[]; params: URLSearchParams },
) => Cleanup | undefined;
