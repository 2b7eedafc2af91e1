import { z } from 'zod';

/** The web console's settings (part of the audit service's environment), validated once at start. */
export const ConsoleConfig = z.object({
  /**
   * Key of the console's session cookies (32+ characters). Replicas must share it; unset, each
   * process makes a random one and sessions end when it restarts.
   */
  CONSOLE_SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** How long a console login lasts. */
  CONSOLE_SESSION_TTL_MS: z.coerce
    .number()
    .int()
    .min(60_000)
    .max(7 * 24 * 3600_000)
    .default(8 * 3600_000),
});
export type ConsoleConfig = z.infer<typeof ConsoleConfig>;

export interface ConsoleOptions {
  sessionSecret: string;
  sessionTtlMs: number;
}

export const CONSOLE_OPTIONS = Symbol('ConsoleOptions');
export const SESSION_COOKIE = 'capstan_session';
export const CSRF_HEADER = 'x-csrf-token';
