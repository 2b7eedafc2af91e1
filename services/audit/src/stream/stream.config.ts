import { z } from 'zod';

/** Settings of the SSE stream and the CDEvents publisher (part of the audit service's environment). */
export const StreamConfig = z.object({
  /** How often an open stream (and the CDEvents publisher) looks for new decisions in Postgres. */
  EVENTS_POLL_MS: z.coerce.number().int().min(10).default(500),
  /** Comment lines on idle streams, so proxies keep them open. */
  EVENTS_HEARTBEAT_MS: z.coerce.number().int().min(100).default(15_000),
});
export type StreamConfig = z.infer<typeof StreamConfig>;

export interface StreamOptions {
  pollMs: number;
  heartbeatMs: number;
}
export const STREAM_OPTIONS = Symbol('StreamOptions');
export const DEFAULT_STREAM_OPTIONS: StreamOptions = { pollMs: 500, heartbeatMs: 15_000 };
export const streamOptions = (c: StreamConfig): StreamOptions => ({
  pollMs: c.EVENTS_POLL_MS,
  heartbeatMs: c.EVENTS_HEARTBEAT_MS,
});
