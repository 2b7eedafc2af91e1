import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { addressProblem } from './url-guard.js';
import { GuardedUrlValues, systemResolver, type Resolver } from './url-values.js';
import { readHostileCases } from './testing/index.js';

interface UrlCase {
  url?: string;
  serve?: string;
  allowedHosts?: string[];
  dns?: Record<string, string[]>;
  deniedHosts?: string[];
  maxBytes?: number;
  refused: string;
  hidden?: string;
}

/** The row's DNS answers; anything else (localhost, IP literals) through the system resolver. */
function resolverOf(dns: Record<string, string[]> = {}): Resolver {
  return (host) => {
    const answer = dns[host];
    if (answer === undefined) return systemResolver(host);
    return Promise.resolve(answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };
}

/** Lets the local test server (on 127.0.0.1) through; every other address gets the real rule. */
const testServerOnly = (address: string, denied: readonly string[]) =>
  address === '127.0.0.1' ? undefined : addressProblem(address, denied);

// The corpus of hostile values URLs (fixtures/hostile/values-urls.yaml): the allow-list, the
// address rule on every resolved address (DNS answers given per row), redirects followed by hand
// from a real local server, and size bounds. Nothing is ever sent anywhere but 127.0.0.1.
describe('hostile values URLs', async () => {
  const cases = await readHostileCases<UrlCase>(
    new URL('../fixtures/hostile/values-urls.yaml', import.meta.url),
  );
  let server: Server;
  let base = '';
  before(async () => {
    server = createServer((req, res) => {
      const path = req.url ?? '/';
      if (path.startsWith('/redirect:')) {
        res.writeHead(302, { location: decodeURIComponent(path.slice('/redirect:'.length)) }).end();
      } else if (path === '/loop') {
        res.writeHead(302, { location: '/loop' }).end();
      } else if (path === '/big') {
        res.writeHead(200, { 'content-length': '5000' }).end('a: '.padEnd(5000, 'x'));
      } else if (path === '/big-chunked') {
        // No content-length: the size is only known while reading.
        res.writeHead(200);
        for (let i = 0; i < 10; i++) res.write('#'.repeat(500));
        res.end();
      } else if (path === '/status-500') {
        res.writeHead(500).end('no');
      } else {
        res.writeHead(200).end('greeting: from a URL\n');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('has the cases', () => assert.ok(cases.length >= 35, `${cases.length} cases`));

  for (const c of cases) {
    it(`refuses ${c.url ?? `a server answering ${c.serve ?? ''}`}`, async () => {
      const local = c.serve !== undefined;
      const values = new GuardedUrlValues({
        policy: {
          allowedHosts: c.allowedHosts ?? (local ? ['127.0.0.1'] : []),
          ...(c.deniedHosts ? { deniedHosts: c.deniedHosts } : {}),
        },
        resolver: resolverOf(c.dns),
        ...(local ? { addressRule: testServerOnly } : {}),
        ...(c.maxBytes === undefined ? {} : { maxBytes: c.maxBytes }),
        timeoutMs: 5_000,
      });
      const url = local ? `${base}/${encodeURI(c.serve ?? '')}` : (c.url ?? '');
      await assert.rejects(values.get(url), (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.match(e.message, new RegExp(c.refused));
        if (c.hidden) assert.ok(!e.message.includes(c.hidden), e.message);
        return true;
      });
    });
  }

  it('reads an allowed URL, connecting to the address it checked', async () => {
    let asked = 0;
    const values = new GuardedUrlValues({
      policy: { allowedHosts: ['values.example.org'] },
      // The name resolves to the local server once; a second answer would say 169.254.169.254.
      resolver: () => {
        asked++;
        return Promise.resolve([{ address: asked === 1 ? '127.0.0.1' : '169.254.169.254', family: 4 }]);
      },
      addressRule: testServerOnly,
    });
    const port = (server.address() as AddressInfo).port;
    assert.equal(await values.get(`http://values.example.org:${port}/ok`), 'greeting: from a URL\n');
    assert.equal(asked, 1);
  });
});
