import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The console's session, sealed into its cookie: the Kubernetes token the person entered, a
 * session id (which the CSRF token is derived from) and an expiry. AES-256-GCM with a key only
 * the audit service holds, so the cookie is opaque and tamper-evident, and replicas sharing the
 * key (CONSOLE_SESSION_SECRET) accept each other's sessions without a session store. The token
 * never reaches the page's JavaScript (the cookie is HttpOnly) nor storage in clear.
 */
export interface ConsoleSession {
  sid: string;
  token: string;
  /** Unix milliseconds. */
  expiresAt: number;
}

const VERSION = 'v1';

export class SessionCodec {
  private readonly encryptionKey: Buffer;
  private readonly csrfKey: Buffer;

  /** `secret`: any string of 32+ characters; two independent keys are derived from it. */
  constructor(secret: string) {
    this.encryptionKey = createHmac('sha256', secret).update('capstan-console-session').digest();
    this.csrfKey = createHmac('sha256', secret).update('capstan-console-csrf').digest();
  }

  seal(session: ConsoleSession): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.encryptionKey, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(session), 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), body]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  /** The session in a cookie value; null when it is malformed, forged, or expired at `now`. */
  open(sealed: string, now: Date): ConsoleSession | null {
    const [version, iv, tag, body, ...rest] = sealed.split('.');
    if (version !== VERSION || !iv || !tag || !body || rest.length > 0) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.encryptionKey, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      const json = Buffer.concat([
        decipher.update(Buffer.from(body, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
      const session = JSON.parse(json) as Partial<ConsoleSession>;
      if (
        typeof session.sid !== 'string' ||
        typeof session.token !== 'string' ||
        typeof session.expiresAt !== 'number'
      )
        return null;
      return session.expiresAt > now.getTime() ? (session as ConsoleSession) : null;
    } catch {
      return null;
    }
  }

  /** The CSRF token of a session: the page sends it back in X-CSRF-Token on every state change. */
  csrfToken(sid: string): string {
    return createHmac('sha256', this.csrfKey).update(sid).digest('base64url');
  }

  checkCsrf(sid: string, given: string | undefined): boolean {
    if (!given) return false;
    const expected = Buffer.from(this.csrfToken(sid));
    const actual = Buffer.from(given);
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
}

export const newSessionId = (): string => randomBytes(18).toString('base64url');

/** One `name=value` out of a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface CookieOptions {
  secure: boolean;
  maxAgeSeconds: number;
}

/** The Set-Cookie value: HttpOnly, SameSite=Strict, Secure over TLS, the whole site's path. */
export function sessionCookie(name: string, value: string, options: CookieOptions): string {
  return [
    `${name}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${options.maxAgeSeconds}`,
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}
