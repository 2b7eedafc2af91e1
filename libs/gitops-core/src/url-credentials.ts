/**
 * Credentials in URLs, stripped before a URL (or a message quoting one) reaches a status, a log,
 * an event or the audit log. The audit log is append-only and hash-chained: a password written
 * there can never be taken back, so every URL Capstan reports goes through here first.
 *
 * What counts as a credential:
 * - the userinfo of any `scheme://user:password@host` URL: the password always; the user name
 *   too, except for SSH (`ssh://git@host`, where the user names an account, not a secret) — a
 *   token is often sent as the user name over HTTPS (`https://<token>@github.com/...`);
 * - query parameters whose name says token, secret, password, key, signature or credential
 *   (`?token=`, `?access_token=`, `?private_token=`, `?X-Amz-Signature=`, `?sig=`...).
 */
export const CREDENTIAL_MASK = '***';

// A query parameter naming a credential: `token`, `access_token`, `X-Amz-Credential`, `api-key`, `sig`.
const CREDENTIAL_PARAM =
  /^(?:.*(?:token|secret|passw(?:or)?d|pwd|credential|signature|auth|api[-_]?key|access[-_]?key)|key|sig|code)$/i;

// `scheme://userinfo@`, where userinfo has no `/`, `@`, whitespace or quote. Applied to free text,
// so a message quoting git's stderr (`unable to access 'https://ada:pw@host/'`) is covered too.
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@'"<>`]+)@/gi;

// A query string inside a URL in free text: from `?` to the first whitespace, quote or `#`.
const QUERY = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s?'"<>`]*\?)([^\s#'"<>`]*)/gi;

/**
 * The URL, or any text quoting URLs, with credentials replaced by `***`. Pure and idempotent:
 * `https://ada:pw@host/x?token=t&a=1` -> `https://***@host/x?token=***&a=1`.
 */
export function withoutCredentials(text: string): string {
  if (!text.includes('://')) return text;
  return text
    .replace(
      USERINFO,
      (_m, scheme: string, userinfo: string) => `${scheme}${maskUserinfo(scheme, userinfo)}@`,
    )
    .replace(QUERY, (_m, head: string, query: string) => `${head}${maskQuery(query)}`);
}

/**
 * The URL with its userinfo (and the masked form `***@`) removed altogether: what a policy
 * matches source URLs on, so `https://***@git.example.com/team/app` and the same URL written with
 * a token both match `https://git.example.com/team/*`. An SSH user name stays: it is part of the
 * address (`ssh://git@host/...`).
 */
export function withoutUserinfo(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^\s/@'"<>`]+)@/i, (m, scheme: string, userinfo: string) => {
    if (/^(?:ssh|git\+ssh|ssh\+git)/i.test(scheme) && userinfo !== CREDENTIAL_MASK)
      return `${scheme}${userinfo.split(':')[0] ?? ''}@`;
    return scheme;
  });
}

/** Whether a URL (or text) carries credentials `withoutCredentials` would remove. */
export function hasCredentials(text: string): boolean {
  return withoutCredentials(text) !== text;
}

function maskUserinfo(scheme: string, userinfo: string): string {
  const colon = userinfo.indexOf(':');
  const user = colon === -1 ? userinfo : userinfo.slice(0, colon);
  if (user === CREDENTIAL_MASK) return CREDENTIAL_MASK;
  // An SSH user is an account name (`git`), not a secret; its password still is.
  if (/^(?:ssh|git\+ssh|ssh\+git)/i.test(scheme)) return colon === -1 ? user : `${user}:${CREDENTIAL_MASK}`;
  return CREDENTIAL_MASK;
}

function maskQuery(query: string): string {
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq === -1) return pair;
      const name = pair.slice(0, eq);
      return CREDENTIAL_PARAM.test(safeDecode(name)) ? `${name}=${CREDENTIAL_MASK}` : pair;
    })
    .join('&');
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
