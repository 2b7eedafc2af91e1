/** A `WWW-Authenticate` challenge: `Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`. */
export interface Challenge {
  scheme: 'bearer' | 'basic';
  params: Record<string, string>;
}

/** Parses the first challenge of a `WWW-Authenticate` header (quoted values may hold commas). */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const scheme = (m[1] ?? '').toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'basic') return undefined;
  const params: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[2] ?? '')) !== null) {
    const key = (p[1] ?? '').toLowerCase();
    params[key] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  }
  return { scheme, params };
}

/** The token response of a Docker token service: `token` or `access_token`, `expires_in` defaults to 60 s. */
export function parseTokenResponse(
  body: unknown,
  now: number,
): { token: string; expiresAt: number } | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
  const token =
    typeof b.token === 'string' ? b.token : typeof b.access_token === 'string' ? b.access_token : '';
  if (token === '') return undefined;
  const expiresIn = typeof b.expires_in === 'number' && b.expires_in > 0 ? b.expires_in : 60;
  const issued = typeof b.issued_at === 'string' ? Date.parse(b.issued_at) : NaN;
  const from = Number.isNaN(issued) ? now : Math.min(issued, now);
  // Renew a little early so a token never expires between our check and the registry's.
  return { token, expiresAt: from + expiresIn * 1000 * 0.9 };
}
