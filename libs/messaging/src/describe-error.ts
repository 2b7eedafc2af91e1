/**
 * One line a person can act on, for anything thrown: the message and, for network failures, the
 * cause Node hides behind it (`fetch failed` says nothing; its cause says DNS, refused, TLS).
 * Never `[object Object]`: plain objects thrown by clients are shown by their fields. Pure.
 */
export function describeError(error: unknown): string {
  return describe(error, 0);
}

function describe(error: unknown, depth: number): string {
  if (typeof error === 'string') return error;
  if (error === null || error === undefined) return String(error);
  if (typeof error === 'function') return '[function]';
  if (typeof error === 'symbol') return error.toString();
  if (typeof error !== 'object') return `${error as number | boolean | bigint}`;
  const e = error as { message?: unknown; code?: unknown; cause?: unknown; errors?: unknown };
  const message = typeof e.message === 'string' ? e.message : '';
  const network = networkCause(e);
  const nested =
    depth < 4 && e.cause !== undefined
      ? describe(e.cause, depth + 1)
      : depth < 4 && Array.isArray(e.errors) && e.errors.length > 0
        ? [...new Set(e.errors.map((x) => describe(x, depth + 1)))].join('; ')
        : '';
  const own = network ?? (message || (error instanceof Error ? error.name : stringify(error)));
  if (!nested || own.includes(nested)) return own;
  if (nested.includes(own)) return nested;
  return `${own}: ${nested}`;
}

/** Node's system and TLS error codes, in words. */
function networkCause(e: {
  code?: unknown;
  message?: unknown;
  hostname?: unknown;
  address?: unknown;
  port?: unknown;
}): string | undefined {
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (!code) return undefined;
  const host = typeof e.hostname === 'string' ? e.hostname : undefined;
  const address =
    typeof e.address === 'string'
      ? `${e.address}${typeof e.port === 'number' ? `:${e.port}` : ''}`
      : undefined;
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `DNS lookup failed${host ? ` for ${host}` : ''} (${code})`;
    case 'ECONNREFUSED':
      return `connection refused${address ? ` by ${address}` : ''} (${code})`;
    case 'ECONNRESET':
      return `connection reset by the server (${code})`;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `connection timed out${address ? ` to ${address}` : ''} (${code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `host unreachable${address ? ` (${address})` : ''} (${code})`;
  }
  if (/^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/.test(code) || code.includes('_CERT'))
    return `TLS error: ${typeof e.message === 'string' ? e.message : code} (${code})`;
  return undefined;
}

function stringify(value: object): string {
  try {
    return JSON.stringify(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
