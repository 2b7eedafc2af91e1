import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { checkFreshness, splitTargets } from './replay.js';
import { checkSignature, hmacSignature, timestamped, type ReceiverType } from './signature.js';

type HeaderValue = string | { sign: { token?: string; body?: string; timestamp?: number } } | { now: number };

interface WebhookCase {
  name: string;
  type?: ReceiverType;
  body?: string;
  headers?: Record<string, HeaderValue | HeaderValue[]>;
  targets?: { name: string; namespace?: string }[];
  refused: string;
}

const TOKEN = 'receiver-token';
const NOW = Date.parse('2026-12-04T12:00:00Z');
const TOLERANCE_MS = 300_000;
const cases = (
  parse(await readFile(new URL('../../fixtures/hostile/webhooks.yaml', import.meta.url), 'utf8')) as {
    cases: WebhookCase[];
  }
).cases;

function headerValue(v: HeaderValue, body: string): string {
  if (typeof v === 'string') return v;
  if ('now' in v) return String(Math.floor(NOW / 1000) + v.now);
  const signed = Buffer.from(v.sign.body ?? body);
  const payload =
    v.sign.timestamp === undefined
      ? signed
      : timestamped(String(Math.floor(NOW / 1000) + v.sign.timestamp), signed);
  return hmacSignature(payload, v.sign.token ?? TOKEN);
}

// The corpus of hostile webhook deliveries (fixtures/hostile/webhooks.yaml): each is refused by the
// receiver's own rules with a reason naming the header or the object at fault.
describe('hostile webhook deliveries', () => {
  it('has the cases', () => assert.ok(cases.length >= 18));

  for (const c of cases) {
    it(c.name, () => {
      if (c.targets) {
        const { refused } = splitTargets('team-a', c.targets, false);
        assert.match(refused.join(', '), new RegExp(c.refused));
        return;
      }
      const body = c.body ?? '';
      const headers: Record<string, string | string[]> = {};
      for (const [name, v] of Object.entries(c.headers ?? {}))
        headers[name] = Array.isArray(v) ? v.map((x) => headerValue(x, body)) : headerValue(v, body);
      const check = checkSignature(c.type ?? 'github', headers, Buffer.from(body), TOKEN);
      const reason = check.ok
        ? (() => {
            const fresh = checkFreshness(check.signedAt, NOW, TOLERANCE_MS);
            return fresh.fresh ? undefined : fresh.reason;
          })()
        : check.reason;
      assert.ok(reason !== undefined, 'the delivery was accepted');
      assert.match(reason, new RegExp(c.refused));
    });
  }
});
