import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { checkNotificationAuth, hmac } from '../domain/notification-auth.js';
import { NotificationError, parseNotification, type NotificationFormat } from '../domain/notifications.js';

/** A literal value, a GHCR signature computed here, or (`bearer: true`) the right bearer token. */
type HeaderValue = string | { sign: { secret?: string; body?: string } } | true;

interface NotificationCase {
  name: string;
  format: NotificationFormat;
  headers?: Record<string, HeaderValue>;
  query?: Record<string, unknown>;
  body: string;
  refused: string;
}

const SECRETS = { token: 'registry-token', hmacSecret: 'registry-hmac' };
const cases = (
  parse(await readFile(new URL('../../fixtures/hostile/notifications.yaml', import.meta.url), 'utf8')) as {
    cases: NotificationCase[];
  }
).cases;

/** What the service does with a delivery, up to the first refusal (see NotificationService.receive). */
function refusal(c: NotificationCase): string | undefined {
  const headers: Record<string, string> = {};
  for (const [name, v] of Object.entries(c.headers ?? {})) {
    if (v === true) headers['authorization'] = `Bearer ${SECRETS.token}`;
    else if (typeof v === 'string') headers[name] = v;
    else headers[name] = hmac(v.sign.body ?? c.body, v.sign.secret ?? SECRETS.hmacSecret);
  }
  const body = Buffer.from(c.body);
  const auth = checkNotificationAuth(c.format, headers, c.query ?? {}, body, SECRETS);
  if (!auth.ok) return auth.reason;
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return `malformed ${c.format} notification: body is not JSON`;
  }
  try {
    parseNotification(c.format, json);
    return undefined;
  } catch (e) {
    if (e instanceof NotificationError) return e.message;
    throw e;
  }
}

// The corpus of hostile registry notifications (fixtures/hostile/notifications.yaml): each is
// refused with a reason naming the header, parameter or field at fault.
describe('hostile registry notifications', () => {
  it('has the cases', () => assert.ok(cases.length >= 20));

  for (const c of cases) {
    it(c.name, () => {
      const reason = refusal(c);
      assert.ok(reason !== undefined, 'the notification was accepted');
      assert.match(reason, new RegExp(c.refused));
    });
  }
});
