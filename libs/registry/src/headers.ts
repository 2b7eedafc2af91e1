/** Docker Hub's `ratelimit-limit: 100;w=21600` / `ratelimit-remaining: 76;w=21600`. */
export interface RateLimit {
  limit?: number;
  remaining?: number;
  windowSeconds?: number;
  source?: string;
}

export function parseRateLimit(headers: Headers): RateLimit | undefined {
  const limit = parseQuota(headers.get('ratelimit-limit'));
  const remaining = parseQuota(headers.get('ratelimit-remaining'));
  if (!limit && !remaining) return undefined;
  const source = headers.get('docker-ratelimit-source');
  const windowSeconds = limit?.window ?? remaining?.window;
  return {
    ...(limit ? { limit: limit.value } : {}),
    ...(remaining ? { remaining: remaining.value } : {}),
    ...(windowSeconds === undefined ? {} : { windowSeconds }),
    ...(source ? { source } : {}),
  };
}

function parseQuota(v: string | null): { value: number; window?: number } | undefined {
  if (!v) return undefined;
  const m = /^\s*(\d+)\s*(?:;\s*w=(\d+))?/.exec(v);
  if (!m) return undefined;
  return { value: Number(m[1]), ...(m[2] ? { window: Number(m[2]) } : {}) };
}

/** `Retry-After` as seconds or an HTTP date; milliseconds to wait, or undefined. */
export function retryAfterMs(v: string | null, now: number): number | undefined {
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The `rel="next"` target of a `Link` header (RFC 8288), resolved against the request URL:
 * registries send `</v2/x/tags/list?last=a&n=100>`, a path without scheme or host.
 */
export function nextLink(header: string | null, requestUrl: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /<([^>]*)>(.*)/.exec(part);
    if (!m) continue;
    if (/;\s*rel\s*=\s*"?next"?/i.test(m[2] ?? '')) return new URL(m[1] ?? '', requestUrl).toString();
  }
  return undefined;
}
