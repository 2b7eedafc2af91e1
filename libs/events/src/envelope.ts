import { z } from 'zod';
import { Timestamp } from './common.js';

/**
 * CloudEvents 1.0 structured-mode envelope. Each event type extends it with a literal
 * `type` (which carries the version, e.g. `...observed.v1`) and its own `data` schema.
 * `correlationid` and `traceparent` are CloudEvents extension attributes (lower-case, no dashes).
 */
export const CloudEventBase = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  subject: z.string().min(1),
  time: Timestamp,
  datacontenttype: z.literal('application/json'),
  correlationid: z.string().optional(),
  traceparent: z
    .string()
    .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
    .optional(),
});
export type CloudEventBase = z.infer<typeof CloudEventBase>;

export function cloudEvent<T extends string, D extends z.ZodType>(type: T, data: D) {
  return CloudEventBase.extend({ type: z.literal(type), data });
}
