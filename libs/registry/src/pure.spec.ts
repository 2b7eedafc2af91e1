import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  nextLink,
  parseChallenge,
  parseRateLimit,
  parseTokenResponse,
  RequestBudget,
  retryAfterMs,
} from './index.js';

describe('registry protocol details', () => {
  it('parses Bearer and Basic challenges, quoted commas included', () => {
    assert.deepEqual(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push"',
      ),
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:a/b:pull,push',
        },
      },
    );
    assert.deepEqual(parseChallenge('Basic realm="x"'), { scheme: 'basic', params: { realm: 'x' } });
    assert.equal(parseChallenge('Negotiate abc'), undefined);
    assert.equal(parseChallenge(null), undefined);
  });

  it('reads token responses with access_token, default expiry 60 s and renewal before it', () => {
    assert.deepEqual(parseTokenResponse({ access_token: 't' }, 1_000), {
      token: 't',
      expiresAt: 1_000 + 54_000,
    });
    assert.deepEqual(parseTokenResponse({ token: 't', expires_in: 300 }, 0), {
      token: 't',
      expiresAt: 270_000,
    });
    assert.equal(parseTokenResponse({}, 0), undefined);
  });

  it('resolves relative and absolute next links', () => {
    const req = 'https://quay.io/v2/org/app/tags/list?n=100';
    assert.equal(
      nextLink('</v2/org/app/tags/list?n=100&last=v2>; rel="next"', req),
      'https://quay.io/v2/org/app/tags/list?n=100&last=v2',
    );
    assert.equal(nextLink('<https://x.io/a>; rel=prev, <https://x.io/b>; rel=next', req), 'https://x.io/b');
    assert.equal(nextLink(null, req), undefined);
  });

  it('reads rate-limit headers and Retry-After in seconds or as a date', () => {
    const h = new Headers({ 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '7;w=21600' });
    assert.deepEqual(parseRateLimit(h), { limit: 100, remaining: 7, windowSeconds: 21600 });
    assert.equal(parseRateLimit(new Headers()), undefined);
    assert.equal(retryAfterMs('2', 0), 2000);
    assert.equal(retryAfterMs('Thu, 01 Jan 1970 00:00:05 GMT', 1000), 4000);
    assert.equal(retryAfterMs('soon', 0), undefined);
  });

  it('spends a burst at once, then one request per 1/rate seconds', async () => {
    let now = 0;
    const waits: number[] = [];
    const budget = new RequestBudget(
      10,
      2,
      () => now,
      (ms) => {
        waits.push(ms);
        now += ms;
        return Promise.resolve();
      },
    );
    for (let i = 0; i < 4; i++) await budget.take();
    assert.deepEqual(waits, [100, 100]);
  });
});
