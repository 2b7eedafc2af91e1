/**
 * The audit API as the console calls it: same origin, the session cookie (HttpOnly, so this
 * code never sees the token) and the CSRF token on anything that changes state.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface Session {
  username: string;
  groups: string[];
  csrfToken: string;
  expiresAt: string;
}

let csrfToken = '';
let onUnauthenticated: () => void = () => undefined;

export function setSession(session: Session | null): void {
  csrfToken = session?.csrfToken ?? '';
}

export function whenUnauthenticated(handler: () => void): void {
  onUnauthenticated = handler;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const json: unknown = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const message = (json as { message?: unknown } | undefined)?.message;
    if (res.status === 401 && !path.startsWith('/console/api/session')) onUnauthenticated();
    throw new ApiError(res.status, typeof message === 'string' ? message : `${res.status} ${res.statusText}`);
  }
  return json as T;
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body),
  delete: <T>(path: string) => request<T>('DELETE', path),
};

/** `?a=1&b=2` from the defined values only. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

// Shapes of the API's answers the console reads (services/audit/src/http/views.ts).
export interface Actor {
  kind: string;
  name: string;
  email: string | null;
  evidence: string;
}

export interface Decision {
  id: string;
  seq: number;
  eventId: string;
  time: string;
  action: string;
  outcome: string;
  reason: string;
  message: string;
  actor: Actor;
  actors: Actor[];
  source: {
    repository: string;
    url: string;
    revision: string;
    sha: string;
    commitMessage: string;
    author: { name: string; email: string };
    committer: { name: string; email: string };
  } | null;
  image: { repository?: string; tag?: string; digest?: string } | null;
  cluster: string;
  decidedBy: { kind: string; namespace: string; name: string };
  targets: { apiVersion: string; kind: string; namespace: string; name: string; action: string | null }[];
  changeSet: Record<string, unknown>[];
  evidence: Record<string, unknown>;
  correlationId: string | null;
  hash: string;
  prevHash: string;
  hiddenObjects?: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface OverviewItem {
  kind: string;
  apiGroup: string;
  weight: number | null;
  namespace: string;
  name: string;
  ready: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  since: string | null;
  revision: string | null;
  suspended: boolean;
  stale: boolean;
  lastDecision: {
    seq: number;
    id: string;
    time: string;
    action: string;
    outcome: string;
    actor: Actor;
    correlationId: string | null;
  } | null;
}

export interface HistoryEntry {
  seq: number;
  decisionId: string;
  time: string;
  action: string;
  outcome: string;
  reason: string;
  message: string;
  objectAction: string | null;
  revision: string | null;
  sha: string | null;
  commitMessage: string | null;
  author: { name: string; email: string } | null;
  committer: { name: string; email: string } | null;
  actor: Actor;
  decidedBy: { kind: string; namespace: string; name: string };
}

export interface VerifyCheck {
  ok: boolean;
  checked: number;
  firstBrokenSeq?: number;
  reason?: string;
  at?: string;
}
