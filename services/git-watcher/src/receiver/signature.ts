import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type ReceiverType = 'github' | 'gitlab' | 'generic';

/** `signedAt` is the sender's signed timestamp (generic deliveries that carry one), in ms. */
export type SignatureCheck = { ok: true; signedAt?: number } | { ok: false; reason: string };

/**
 * Checks a webhook delivery against the Receiver's token. Pure and constant-time in the secret:
 * both sides are hashed to equal length before `timingSafeEqual`, so neither the comparison nor
 * an early length mismatch reveals how much of a guess was right.
 * - github: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`
 * - gitlab: `X-Gitlab-Token: <token>`
 * - generic: `X-Signature: sha256=<hex HMAC-SHA256 of the raw body>`; a sender that also sends
 *   `X-Capstan-Timestamp: <unix seconds>` signs `<timestamp>.<raw body>` instead, which lets the
 *   receiver refuse a delivery replayed outside its time window (`signedAt`).
 */
export function checkSignature(
  type: ReceiverType,
  headers: Record<string, string | string[] | undefined>,
  rawBody: Buffer,
  token: string,
): SignatureCheck {
  switch (type) {
    case 'gitlab': {
      const given = header(headers, 'x-gitlab-token');
      if (given === undefined) return { ok: false, reason: 'missing X-Gitlab-Token header' };
      return sameSecret(given, token) ? { ok: true } : { ok: false, reason: 'X-Gitlab-Token does not match' };
    }
    case 'github':
      return checkHmac(header(headers, 'x-hub-signature-256'), 'X-Hub-Signature-256', rawBody, token);
    case 'generic': {
      const stamp = header(headers, 'x-capstan-timestamp');
      if (stamp === undefined)
        return checkHmac(header(headers, 'x-signature'), 'X-Signature', rawBody, token);
      if (!/^[0-9]{1,12}$/.test(stamp))
        return { ok: false, reason: 'X-Capstan-Timestamp must be unix seconds' };
      const check = checkHmac(
        header(headers, 'x-signature'),
        'X-Signature',
        timestamped(stamp, rawBody),
        token,
      );
      return check.ok ? { ok: true, signedAt: Number(stamp) * 1000 } : check;
    }
  }
}

/** What a generic sender with a timestamp signs: `<unix seconds>.<raw body>`. */
export function timestamped(stamp: string, rawBody: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${stamp}.`), rawBody]);
}

/** What a sender puts in the signature header; for tests, benchmarks and clients. */
export function hmacSignature(rawBody: Buffer | string, token: string): string {
  return `sha256=${createHmac('sha256', token).update(rawBody).digest('hex')}`;
}

function checkHmac(given: string | undefined, name: string, rawBody: Buffer, token: string): SignatureCheck {
  if (given === undefined) return { ok: false, reason: `missing ${name} header` };
  if (!given.startsWith('sha256=')) return { ok: false, reason: `${name} must be sha256=<hex>` };
  return sameSecret(given.toLowerCase(), hmacSignature(rawBody, token))
    ? { ok: true }
    : { ok: false, reason: `${name} does not match the body` };
}

function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
