import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SourcedObject } from '@capstan/gitops-core';
import { splitHooks } from './hooks.js';

function job(name: string, annotations: Record<string, string> = {}): SourcedObject {
  return {
    object: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name, annotations } },
    origin: { file: 'hr.yaml', document: 0 },
  };
}

describe('splitHooks', () => {
  it('groups pre and post hooks, each sorted by weight then name, and keeps plain objects apart', () => {
    const { objects, hooks } = splitHooks(
      [
        job('app'),
        job('migrate', { 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-weight': '5' }),
        job('seed', { 'helm.sh/hook': 'pre-install', 'helm.sh/hook-weight': '-3' }),
        job('backup', { 'helm.sh/hook': 'pre-upgrade', 'helm.sh/hook-weight': '5' }),
        job('notify', {
          'helm.sh/hook': 'post-install, post-upgrade',
          'helm.sh/hook-delete-policy': 'hook-succeeded,hook-failed',
        }),
        job('smoke', { 'helm.sh/hook': 'test' }),
        job('cleanup', { 'helm.sh/hook': 'pre-delete' }),
      ],
      'default-web',
    );
    assert.deepEqual(
      objects.map((o) => o.object.metadata.name),
      ['app'],
    );
    assert.deepEqual(
      hooks.pre.map((h) => [h.object.metadata.name, h.hook.weight, h.hook.events]),
      [
        ['seed', -3, ['pre-install']],
        ['backup', 5, ['pre-upgrade']],
        ['migrate', 5, ['pre-install', 'pre-upgrade']],
      ],
    );
    assert.deepEqual(
      hooks.post.map((h) => [h.object.metadata.name, h.hook.deletePolicies, h.hook.release]),
      [['notify', ['hook-succeeded', 'hook-failed'], 'default-web']],
    );
    assert.deepEqual(hooks.pre[0]?.hook.deletePolicies, ['before-hook-creation']);
  });

  it('puts a hook on both pre and post events in both groups, and honours disabled hooks', () => {
    const both = job('both', { 'helm.sh/hook': 'pre-install,post-upgrade' });
    const all = splitHooks([both], 'r');
    assert.equal(all.hooks.pre.length, 1);
    assert.equal(all.hooks.post.length, 1);
    const noInstall = splitHooks([both], 'r', { disableInstallHooks: true });
    assert.deepEqual(noInstall.hooks.pre, []);
    assert.deepEqual(
      noInstall.hooks.post.map((h) => h.hook.events),
      [['post-upgrade']],
    );
    assert.deepEqual(noInstall.objects, []);
  });
});
