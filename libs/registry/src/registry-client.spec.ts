import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DockerRegistry, PagingRegistry, TokenServer } from '@capstan/testing';
import { RegistryClient, RegistryError } from './index.js';

// The client against the real distribution 2.8 (plain and token auth, images pushed by skopeo),
// and against a paging server for what 2.8 cannot show (page caps, Link, 429, 500, rate headers).
describe('registry client against distribution 2.8', () => {
  let registry: DockerRegistry;
  const pushed: Record<string, string> = {};

  before(async () => {
    registry = await DockerRegistry.start();
    pushed['1.0.0'] = await registry.push('team/app', '1.0.0', { created: '2026-01-02T03:04:05Z' });
    pushed['2.0.0'] = await registry.push('team/app', '2.0.0', {
      created: '2026-02-02T03:04:05Z',
      platforms: [
        { os: 'linux', architecture: 'arm64' },
        { os: 'linux', architecture: 'amd64' },
      ],
      labels: { 'org.opencontainers.image.source': 'https://git.example.com/app' },
    });
    pushed['repro'] = await registry.push('team/app', 'repro', { created: null });
  });
  after(() => registry.stop());

  it('pings, lists tags and reads digests by HEAD with every manifest type accepted', async () => {
    const client = new RegistryClient();
    await client.ping(registry.host);
    const ref = { registry: registry.host, repository: 'team/app' };
    assert.deepEqual((await client.listTags(ref)).sort(), ['1.0.0', '2.0.0', 'repro']);
    const head = await client.headManifest(ref, '2.0.0');
    assert.deepEqual(head, { digest: pushed['2.0.0'], mediaType: 'application/vnd.oci.image.index.v1+json' });
    assert.equal((await client.headManifest(ref, '1.0.0')).digest, pushed['1.0.0']);
  });

  it('follows an index to the linux/amd64 manifest and its config for created and labels', async () => {
    const client = new RegistryClient();
    const ref = { registry: registry.host, repository: 'team/app' };
    const info = await client.imageInfo(ref, '2.0.0');
    assert.equal(info.digest, pushed['2.0.0']);
    assert.equal(info.created, '2026-02-02T03:04:05Z');
    assert.equal(info.labels['org.opencontainers.image.source'], 'https://git.example.com/app');
    assert.ok(info.platformDigest?.startsWith('sha256:'));
    const repro = await client.imageInfo(ref, 'repro');
    assert.equal(repro.created, undefined, 'an image without created says so');
  });

  it('names the registry, status and OCI code of an unknown manifest', async () => {
    const client = new RegistryClient();
    await assert.rejects(
      client.headManifest({ registry: registry.host, repository: 'team/app' }, 'nope'),
      (e: unknown) => e instanceof RegistryError && e.status === 404 && e.registry === registry.host,
    );
    await assert.rejects(
      client.listTags({ registry: registry.host, repository: 'no/such' }),
      (e: unknown) => e instanceof RegistryError && e.code === 'NAME_UNKNOWN',
    );
  });
});

describe('registry client with token auth', () => {
  const user = { username: 'ci', password: 's3cret' };
  let tokens: TokenServer;
  let registry: DockerRegistry;

  before(async () => {
    tokens = await TokenServer.start(user);
    registry = await DockerRegistry.start({
      tokenAuth: {
        realm: tokens.realm,
        service: tokens.service,
        issuer: tokens.issuer,
        certPath: tokens.certPath,
      },
    });
    await registry.push('private/app', '1.0.0', { credentials: user });
  });
  after(async () => {
    await registry.stop();
    await tokens.stop();
  });

  it('answers the challenge with a token from the realm, cached per scope and login', async () => {
    const client = new RegistryClient();
    const ref = { registry: registry.host, repository: 'private/app', credentials: user };
    const before = tokens.issued;
    assert.deepEqual(await client.listTags(ref), ['1.0.0']);
    await client.headManifest(ref, '1.0.0');
    await client.imageInfo(ref, '1.0.0');
    assert.equal(tokens.issued - before, 1, 'one token for the repository scope, reused');
    // The same client asked without the login (another tenant's ImageRepository) gets no token
    // of the first one's: the token service refuses it.
    await assert.rejects(
      client.listTags({ registry: registry.host, repository: 'private/app' }),
      (e: unknown) => e instanceof RegistryError && e.status === 401,
    );
  });

  it('fails with the token service refusal when the credentials are wrong', async () => {
    const client = new RegistryClient();
    await assert.rejects(
      client.listTags({
        registry: registry.host,
        repository: 'private/app',
        credentials: { username: 'ci', password: 'wrong' },
      }),
      (e: unknown) =>
        e instanceof RegistryError && e.status === 401 && /token request refused/.test(e.message),
    );
  });
});

describe('registry client paging, limits and failures', () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => `v${String(i).padStart(5, '0')}`);
  let quay: PagingRegistry;
  let ghcr: PagingRegistry;
  const waits: number[] = [];
  const sleep = (ms: number) => {
    waits.push(ms);
    return Promise.resolve();
  };

  before(async () => {
    quay = await PagingRegistry.start({
      tags: (r) => (r === 'org/app' ? many(250) : r === 'org/bare' ? [] : undefined),
      pageCap: 100,
      rateLimit: { limit: 100, remaining: 42, windowSeconds: 21600 },
      basicAuth: { username: 'robot', password: 'token' },
    });
    ghcr = await PagingRegistry.start({
      tags: (r) => (r === 'org/big' ? many(2500) : undefined),
      pageCap: 1000,
      created: (_r, tag) => (tag === 'v00001' ? '2026-03-01T00:00:00Z' : undefined),
    });
  });
  after(async () => {
    await quay.stop();
    await ghcr.stop();
  });

  it('follows relative Link headers through Quay-capped pages, with Basic auth', async () => {
    const limits: unknown[] = [];
    const client = new RegistryClient({ onRateLimit: (_r, l) => limits.push(l) });
    const credentials = { username: 'robot', password: 'token' };
    const tags = await client.listTags({ registry: quay.host, repository: 'org/app', credentials });
    assert.equal(tags.length, 250);
    assert.equal(new Set(tags).size, 250);
    const pages = quay.requests.filter((r) => r.path.includes('/tags/list') && r.status === 200);
    assert.equal(pages.length, 3);
    assert.deepEqual(limits.at(-1), { limit: 100, remaining: 42, windowSeconds: 21600, source: '127.0.0.1' });
    assert.deepEqual(await client.listTags({ registry: quay.host, repository: 'org/bare', credentials }), []);
    // Basic auth is sent with the login's own requests only.
    await assert.rejects(
      client.listTags({ registry: quay.host, repository: 'org/app' }),
      (e: unknown) => e instanceof RegistryError && e.status === 401,
    );
  });

  it('reads 2,500 tags from a GHCR-capped registry in three pages', async () => {
    const client = new RegistryClient();
    const tags = await client.listTags({ registry: ghcr.host, repository: 'org/big' });
    assert.equal(tags.length, 2500);
    assert.equal(client.requestCount(ghcr.host), 3);
  });

  it('honours Retry-After on 429 and backs off on 500, then gives up naming the status', async () => {
    const client = new RegistryClient({ sleep, maxRetries: 2 });
    const ref = { registry: ghcr.host, repository: 'org/big' };
    waits.length = 0;
    ghcr.fail(429, 1, '3', /manifests/);
    assert.equal((await client.headManifest(ref, 'v00001')).digest, ghcr.digestOf('org/big', 'v00001'));
    assert.deepEqual(waits, [3000]);
    waits.length = 0;
    ghcr.fail(500, 3, undefined, /manifests/);
    await assert.rejects(
      client.headManifest(ref, 'v00001'),
      (e: unknown) => e instanceof RegistryError && e.status === 500 && e.message.includes(ghcr.host),
    );
    assert.deepEqual(waits, [250, 500]);
  });

  it('reads created from the config; an image without one has none', async () => {
    const client = new RegistryClient();
    const info = await client.imageInfo({ registry: ghcr.host, repository: 'org/big' }, 'v00001');
    assert.equal(info.created, '2026-03-01T00:00:00Z');
    const none = await client.imageInfo({ registry: ghcr.host, repository: 'org/big' }, 'v00002');
    assert.equal(none.created, undefined);
  });
});
