/**
 * Calls `changed` when decisions are recorded: the audit log's SSE stream (the session cookie
 * authenticates it) when the person may follow it, else a poll every 15 s. Bursts are folded
 * into one call.
 */
export function onDecisions(changed: () => void, namespace?: string): () => void {
  let timer: number | undefined;
  let poll: number | undefined;
  const soon = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(changed, 300);
  };
  const source = new EventSource(
    `/api/v1/events/stream${namespace ? `?namespace=${encodeURIComponent(namespace)}` : ''}`,
  );
  source.addEventListener('decision', soon);
  source.addEventListener('error', () => {
    // A stream the server refused (403 without cluster-wide access) is not retried by the browser.
    if (source.readyState === EventSource.CLOSED && poll === undefined)
      poll = window.setInterval(changed, 15_000);
  });
  return () => {
    source.close();
    window.clearTimeout(timer);
    window.clearInterval(poll);
  };
}
