import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findImageSlots, parseImageRef, releaseImage, setLock, WorkloadEditError } from './index.js';
import { FLUX_V1_DEPLOYMENT, LOCKED_DEPLOYMENT } from './fixtures.js';

describe('manual releases and locks', () => {
  const web = { namespace: 'shop', kind: 'deployment', name: 'web' };

  it('releases a new tag to the containers running that repository only', () => {
    const out = releaseImage(
      { path: 'web.yaml', text: FLUX_V1_DEPLOYMENT },
      web,
      parseImageRef('ghcr.io/acme/web:1.3'),
    );
    assert.equal(out.text, FLUX_V1_DEPLOYMENT.replace('ghcr.io/acme/web:1.2', 'ghcr.io/acme/web:1.3'));
    assert.deepEqual(
      out.slots.map((s) => s.container),
      ['web'],
    );
  });

  it('refuses a locked workload unless forced', () => {
    const api = { namespace: 'shop', kind: 'Deployment', name: 'api' };
    const image = parseImageRef('registry.example.com:5000/acme/api:2.1.0');
    assert.throws(
      () => releaseImage({ path: 'api.yaml', text: LOCKED_DEPLOYMENT }, api, image),
      (e: unknown) =>
        e instanceof WorkloadEditError && /locked by Ada <ada@example\.com>: incident 42/.test(e.message),
    );
    assert.match(
      releaseImage({ path: 'api.yaml', text: LOCKED_DEPLOYMENT }, api, image, { force: true }).text,
      /api:2\.1\.0/,
    );
  });

  it('locks and unlocks with user and message, and automation sees it', () => {
    const text = `# fleet\n${FLUX_V1_DEPLOYMENT}---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n`;
    const locked = setLock(text, web, { user: 'Ada', message: 'hold for the demo' });
    const [slot] = findImageSlots({ path: 'web.yaml', text: locked });
    assert.deepEqual(slot?.locked, { user: 'Ada', message: 'hold for the demo' });
    assert.ok(locked.startsWith('# fleet\n'));
    assert.ok(
      locked.endsWith('kind: Service\nmetadata: {name: web, namespace: shop}\n'),
      'other documents untouched',
    );
    const unlocked = setLock(locked, web, undefined);
    assert.equal(findImageSlots({ path: 'web.yaml', text: unlocked })[0]?.locked, undefined);
    assert.throws(
      () => setLock(text, { ...web, name: 'nope' }, undefined),
      /shop\/deployment\/nope not found/,
    );
  });
});
