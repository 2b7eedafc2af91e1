import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { NotificationFormat } from './notifications.js';

export type AuthCheck = { ok: true } | { ok: false; reason: string };

/**
 * Authenticates a registry webhook, in whatever way each registry can:
 * - distribution: `Authorization: Bearer <token>` (set in the endpoint's `headers`);
 * - harbor: its `Authorization` header, `<token>` or `Bearer <token>`;
 * - ghcr: GitHub's `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body>`;
 * - dockerhub: it cannot sign or set headers, so `?token=<token>` in the webhook URL.
 * Comparisons are constant-time on hashes of both sides.
 */
export function checkNotificationAuth(
  format: NotificationFormat,
  headers: Record<string, string | string[] | undefined>,
  query: Record<string, unknown>,
  rawBody: Buffer,
  secrets: { token?: string; hmacSecret?: string },
): AuthCheck {
  const token = secrets.token;
  switch (format) {
    case 'distribution':
    case 'harbor': {
      if (!token) return { ok: false, reason: 'no webhook token is configured' };
      const given = header(headers, 'authorization');
      if (!given) return { ok: false, reason: 'missing Authorization header' };
      const bare = given.replace(/^Bearer\s+/i, '');
      return same(bare, token) ? { ok: true } : { ok: false, reason: 'Authorization does not match' };
    }
    case 'dockerhub': {
      if (!token) return { ok: false, reason: 'no webhook token is configured' };
      const given = typeof query['token'] === 'string' ? query['token'] : undefined;
      if (!given) return { ok: false, reason: 'missing token query parameter' };
      return same(given, token) ? { ok: true } : { ok: false, reason: 'token does not match' };
    }
    case 'ghcr': {
      const secret = secrets.hmacSecret ?? token;
      if (!secret) return { ok: false, reason: 'no webhook HMAC secret is configured' };
      const given = header(headers, 'x-hub-signature-256');
      if (!given) return { ok: false, reason: 'missing X-Hub-Signature-256 header' };
      return same(given.toLowerCase(), hmac(rawBody, secret))
        ? { ok: true }
        : { ok: false, reason: 'X-Hub-Signature-256 does not match the body' };
    }
  }
}

export function hmac(body: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function same(a: string, b: string): boolean {
  const d = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(d(a), d(b));
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
