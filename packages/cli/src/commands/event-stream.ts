import { AuditApiError } from '../audit-client.js';
import { feedSse, initialSseState, type SseEvent } from './sse.js';

export interface StreamOptions {
  baseUrl: string;
  token: string | undefined;
  /** The stream's filters, as the audit API names them. */
  query: Record<string, string>;
  /** Last-Event-ID of the first request: only decisions after this seq are sent. */
  after: string;
  signal: AbortSignal;
  /** Handles one `decision` frame; false stops the stream. */
  onDecision: (frame: SseEvent) => boolean;
  /** Told before each reconnect, with why the previous connection ended. */
  onReconnect?: (reason: string, delayMs: number) => void;
  /** No byte (not even a heartbeat) for this long means the connection is dead. */
  idleTimeoutMs?: number;
  /** Waits between reconnects; aborting the signal ends the wait early. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

const DEFAULT_RETRY_MS = 2_000;
const MAX_RETRY_MS = 10_000;
/** Three missed heartbeats at the server's default interval (15 s) plus slack. */
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/**
 * Follows `GET /api/v1/events/stream` until `onDecision` says stop or the signal aborts. A
 * connection that ends or breaks is reopened with `Last-Event-ID` = the seq of the last decision
 * handled, so the server replays exactly what came after it: nothing is missed, nothing repeated
 * (frames at or below that seq are dropped in case a server sends them anyway). Only the first
 * connection's failure is an error: after that the server is expected back (a restart, a deploy),
 * so the client keeps retrying with backoff. 4xx answers are never retried: they will not change.
 */
export async function streamDecisions(opts: StreamOptions): Promise<void> {
  const sleep = opts.sleep ?? abortableSleep;
  // Mutated by the connection's callbacks, hence an object rather than narrowed locals.
  const progress = { lastId: opts.after, retryMs: DEFAULT_RETRY_MS, connected: false, failures: 0 };
  const aborted = () => opts.signal.aborted;
  while (!aborted()) {
    let reason: string;
    try {
      const outcome = await connectOnce(opts, progress.lastId, {
        onOpen: () => {
          progress.connected = true;
          progress.failures = 0;
        },
        onRetry: (ms) => (progress.retryMs = ms),
        onHandled: (id) => (progress.lastId = id),
      });
      if (outcome === 'stopped') return;
      reason = 'the server closed the stream';
    } catch (e) {
      if (e instanceof HandlerFailed) throw e.cause;
      if (aborted()) return;
      if (e instanceof AuditApiError && e.status >= 400 && e.status < 500) throw e;
      if (!progress.connected) throw e instanceof AuditApiError ? e : unreachable(opts.baseUrl, e);
      reason = e instanceof Error ? e.message : String(e);
    }
    progress.failures++;
    const { retryMs, failures } = progress;
    const delay = Math.min(retryMs * 2 ** Math.max(0, failures - 1), Math.max(retryMs, MAX_RETRY_MS));
    opts.onReconnect?.(reason, delay);
    await sleep(delay, opts.signal);
  }
}

async function connectOnce(
  opts: StreamOptions,
  lastId: string,
  hooks: { onOpen(): void; onRetry(ms: number): void; onHandled(id: string): void },
): Promise<'ended' | 'stopped'> {
  const url = new URL('/api/v1/events/stream', opts.baseUrl);
  url.search = new URLSearchParams(opts.query).toString();
  const connection = new AbortController();
  const signal = AbortSignal.any([opts.signal, connection.signal]);
  const idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  let idle: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(
      () => connection.abort(new Error(`no data for ${idleMs} ms: the connection is presumed dead`)),
      idleMs,
    );
  };
  let res: Response;
  try {
    touch();
    try {
      res = await fetch(url, {
        headers: {
          accept: 'text/event-stream',
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(lastId ? { 'last-event-id': lastId } : {}),
        },
        signal,
      });
    } catch (e) {
      throw unreachable(opts.baseUrl, connection.signal.aborted ? connection.signal.reason : e);
    }
    if (!res.ok)
      throw new AuditApiError(res.status, `${res.status} from ${url.pathname}: ${await message(res)}`);
    if (!res.body) throw new AuditApiError(res.status, `${url.pathname} answered without a body`);
    hooks.onOpen();
    let state = initialSseState(lastId);
    let last = lastId === '' ? -1n : BigInt(lastId);
    const decoder = new TextDecoder();
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return 'ended';
        touch();
        const parsed = feedSse(state, decoder.decode(value, { stream: true }));
        state = parsed.state;
        if (parsed.retry !== undefined) hooks.onRetry(parsed.retry);
        for (const frame of parsed.events) {
          if (frame.event !== 'decision' || !/^\d+$/.test(frame.id)) continue;
          const seq = BigInt(frame.id);
          if (seq <= last) continue;
          let more: boolean;
          try {
            more = opts.onDecision(frame);
          } catch (e) {
            throw new HandlerFailed(e);
          }
          last = seq;
          hooks.onHandled(frame.id);
          if (!more) {
            connection.abort();
            return 'stopped';
          }
        }
      }
    } catch (e) {
      if (connection.signal.aborted && !opts.signal.aborted) {
        const why: unknown = connection.signal.reason;
        throw why instanceof Error ? why : new Error(String(why));
      }
      throw e;
    } finally {
      reader.releaseLock();
    }
  } finally {
    clearTimeout(idle);
  }
}

/** The caller's handler threw: not a connection problem, so never retried. */
class HandlerFailed extends Error {
  constructor(override readonly cause: unknown) {
    super('the decision handler failed');
  }
}

function unreachable(baseUrl: string, e: unknown): AuditApiError {
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : undefined;
  return new AuditApiError(
    0,
    `cannot reach the audit API at ${baseUrl}: ${cause ?? (e instanceof Error ? e.message : String(e))}`,
  );
}

async function message(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (Array.isArray(parsed.message)) return parsed.message.join('; ');
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON: the raw text says it
  }
  return text;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
