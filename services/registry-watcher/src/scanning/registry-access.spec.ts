import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { registryCredentials } from './registry-access.js';

describe('registry credentials from a Secret', () => {
  it('reads username/password, or the entry of a .dockerconfigjson for the registry', () => {
    assert.deepEqual(registryCredentials('ghcr.io', { username: 'ci', password: 'p:w' }), {
      username: 'ci',
      password: 'p:w',
    });
    const config = JSON.stringify({
      auths: {
        'ghcr.io': { auth: Buffer.from('robot:to:ken').toString('base64') },
        'https://quay.io': { username: 'q', password: 'x' },
      },
    });
    assert.deepEqual(registryCredentials('ghcr.io', { '.dockerconfigjson': config }), {
      username: 'robot',
      password: 'to:ken',
    });
    assert.deepEqual(registryCredentials('quay.io', { '.dockerconfigjson': config }), {
      username: 'q',
      password: 'x',
    });
    assert.equal(registryCredentials('docker.io', { '.dockerconfigjson': config }), undefined);
    assert.equal(registryCredentials('docker.io', {}), undefined);
  });
});
