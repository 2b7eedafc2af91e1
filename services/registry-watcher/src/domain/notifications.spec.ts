import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkNotificationAuth, hmac } from './notification-auth.js';
import { NotificationError, parseNotification } from './notifications.js';
import { diffTags, recordListing } from './seen-tags.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

// Bodies as each registry sends them (distribution 2.8 notifications, Docker Hub, GitHub
// `package` webhooks, Harbor PUSH_ARTIFACT), trimmed to the fields that matter.
const distribution = {
  events: [
    {
      id: 'e1',
      timestamp: '2026-12-04T10:00:00Z',
      action: 'push',
      target: {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: DIGEST,
        repository: 'team/podinfo',
        url: 'http://127.0.0.1:5000/v2/team/podinfo/manifests/sha256:aaa',
        tag: '3.0.1',
      },
      request: { host: '127.0.0.1:5000' },
      actor: { name: 'ci-bot' },
    },
    {
      id: 'e2',
      timestamp: '2026-12-04T10:00:00Z',
      action: 'push',
      target: { mediaType: 'application/octet-stream', digest: DIGEST, repository: 'team/podinfo' },
    },
    {
      id: 'e3',
      timestamp: '2026-12-04T10:00:01Z',
      action: 'pull',
      target: { repository: 'team/podinfo', tag: '3.0.0', digest: DIGEST },
    },
  ],
};

describe('registry notifications', () => {
  it('keeps manifest pushes by tag from a distribution envelope, with the pusher', () => {
    const { notices, ignored } = parseNotification('distribution', distribution);
    assert.equal(ignored, 2);
    assert.deepEqual(notices, [
      {
        eventId: 'e1',
        registry: '127.0.0.1:5000',
        repository: 'team/podinfo',
        tag: '3.0.1',
        digest: DIGEST,
        pushedAt: new Date('2026-12-04T10:00:00Z'),
        pusher: 'ci-bot',
      },
    ]);
  });

  it('reads Docker Hub (no digest), GHCR and Harbor pushes', () => {
    const hub = parseNotification('dockerhub', {
      push_data: { pushed_at: 1764842400, pusher: 'ada', tag: '1.2.3' },
      repository: { repo_name: 'nginx' },
    }).notices[0];
    assert.deepEqual(
      [hub?.registry, hub?.repository, hub?.tag, hub?.digest, hub?.pusher],
      ['docker.io', 'library/nginx', '1.2.3', undefined, 'ada'],
    );
    const ghcr = parseNotification('ghcr', {
      action: 'published',
      package: {
        name: 'App',
        package_type: 'CONTAINER',
        owner: { login: 'Acme' },
        package_version: {
          id: 7,
          version: DIGEST,
          container_metadata: { tag: { name: 'v2', digest: DIGEST } },
        },
      },
      sender: { login: 'octocat' },
    }).notices[0];
    assert.deepEqual(
      [ghcr?.registry, ghcr?.repository, ghcr?.tag, ghcr?.digest, ghcr?.pusher],
      ['ghcr.io', 'acme/app', 'v2', DIGEST, 'octocat'],
    );
    const harbor = parseNotification('harbor', {
      type: 'PUSH_ARTIFACT',
      occur_at: 1764842400,
      operator: 'admin',
      event_data: {
        resources: [{ digest: DIGEST, tag: 'v1', resource_url: 'harbor.example.com/library/app:v1' }],
        repository: { repo_full_name: 'library/app' },
      },
    }).notices[0];
    assert.deepEqual(
      [harbor?.registry, harbor?.repository, harbor?.tag],
      ['harbor.example.com', 'library/app', 'v1'],
    );
  });

  it('names the field of a malformed body', () => {
    assert.throws(
      () => parseNotification('distribution', { events: [{ id: 'x', action: 'push' }] }),
      (e: unknown) =>
        e instanceof NotificationError &&
        /events\[0\]\.target/.test(e.message) &&
        /events\[0\]\.timestamp/.test(e.message),
    );
    assert.throws(
      () => parseNotification('harbor', { type: 'PUSH_ARTIFACT' }),
      /malformed harbor notification: .*occur_at/,
    );
  });

  it('authenticates each format its own way, never without a configured secret', () => {
    const secrets = { token: 'a-long-webhook-token' };
    const body = Buffer.from('{}');
    assert.deepEqual(
      checkNotificationAuth(
        'distribution',
        { authorization: 'Bearer a-long-webhook-token' },
        {},
        body,
        secrets,
      ),
      { ok: true },
    );
    assert.equal(
      checkNotificationAuth('distribution', { authorization: 'Bearer nope' }, {}, body, secrets).ok,
      false,
    );
    assert.deepEqual(
      checkNotificationAuth('harbor', { authorization: 'a-long-webhook-token' }, {}, body, secrets),
      { ok: true },
    );
    assert.deepEqual(
      checkNotificationAuth('dockerhub', {}, { token: 'a-long-webhook-token' }, body, secrets),
      { ok: true },
    );
    assert.deepEqual(
      checkNotificationAuth('ghcr', { 'x-hub-signature-256': hmac(body, secrets.token) }, {}, body, secrets),
      { ok: true },
    );
    assert.equal(
      checkNotificationAuth(
        'ghcr',
        { 'x-hub-signature-256': hmac('{"x":1}', secrets.token) },
        {},
        body,
        secrets,
      ).ok,
      false,
    );
    assert.deepEqual(checkNotificationAuth('distribution', {}, {}, body, {}), {
      ok: false,
      reason: 'no webhook token is configured',
    });
  });
});

describe('seen tags', () => {
  it('baselines a new repository, then reports only tags not seen before', () => {
    assert.deepEqual(diffTags(undefined, ['1', '2']), { fresh: [], removed: [] });
    const base = recordListing(undefined, ['1', '2'], {});
    assert.deepEqual(base, { tags: { '1': '', '2': '' }, baselined: true });
    assert.deepEqual(diffTags(base, ['1', '3']), { fresh: ['3'], removed: ['2'] });
    assert.deepEqual(recordListing(base, ['1', '3'], { '3': DIGEST }).tags, { '1': '', '3': DIGEST });
  });
});
