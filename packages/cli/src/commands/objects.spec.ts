import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { UsageError } from '../object-ref.js';
import { kindOf, parseKindRef } from './capstan-kinds.js';
import { atLeast } from './check.js';
import { bashCompletion, fishCompletion } from './completion.js';
import { renderRows } from './get.js';
import { age, resourceRow } from './resource-rows.js';
import { renderTree } from './tree.js';

const NOW = new Date('2026-12-04T10:00:00Z');

void describe('capstan get rows', () => {
  void it('age as kubectl prints it', () => {
    assert.equal(age('2026-12-04T09:59:15Z', NOW), '45s');
    assert.equal(age('2026-12-04T09:48:00Z', NOW), '12m');
    assert.equal(age('2026-12-04T05:00:00Z', NOW), '5h');
    assert.equal(age('2026-12-01T10:00:00Z', NOW), '3d');
    assert.equal(age(undefined, NOW), '<unknown>');
  });

  void it('READY, STATUS and REVISION from status; Unknown while the controller catches up', () => {
    const row = resourceRow(
      {
        metadata: {
          name: 'web',
          namespace: 'shop',
          creationTimestamp: '2026-12-04T09:00:00Z',
          generation: 1,
        },
        status: {
          observedGeneration: 1,
          lastAppliedRevision: 'main@sha1:0123456789abcdef0123456789abcdef01234567',
          conditions: [{ type: 'Ready', status: 'True', message: 'Applied revision main@sha1:0123' }],
        },
      },
      NOW,
    );
    assert.equal(row.ready, 'True');
    assert.equal(
      renderRows([row], false),
      'NAME  READY  STATUS                           REVISION                SUSPENDED  AGE\n' +
        'web   True   Applied revision main@sha1:0123  main@sha1:0123456789ab  False      60m',
    );
    assert.match(renderRows([row], true), /^NAMESPACE {2}NAME/);
    const behind = resourceRow(
      { metadata: { name: 'web', generation: 2 }, status: { observedGeneration: 1 } },
      NOW,
    );
    assert.deepEqual([behind.ready, behind.status], ['Unknown', 'reconciliation in progress']);
    const policy = resourceRow(
      { metadata: { name: 'web' }, status: { latestRef: { name: 'ghcr.io/org/web', tag: '1.2.3' } } },
      NOW,
    );
    assert.equal(policy.revision, 'ghcr.io/org/web:1.2.3', "an ImagePolicy's pick");
  });

  void it('kinds by any of their names; refs as <kind>/<name>', () => {
    assert.equal(kindOf('hr').kind, 'HelmRelease');
    assert.equal(kindOf('images').plural, 'imagepolicies');
    assert.equal(kindOf('Sync').kind, 'Sync');
    assert.throws(() => kindOf('pods'), UsageError);
    assert.deepEqual(parseKindRef('release/podinfo').name, 'podinfo');
    assert.throws(() => parseKindRef('web'), /expected <kind>\/<name>/);
  });
});

void describe('tree, check, completion', () => {
  void it('draws the tree with the last branch closed', () => {
    assert.equal(
      renderTree('Sync/default/web', [
        { object: 'Namespace/shop', status: 'Current', message: '' },
        { object: 'Deployment/shop/web', status: 'InProgress', message: '1 of 2 replicas' },
      ]),
      'Sync/default/web\n├── Namespace/shop  Current\n└── Deployment/shop/web  InProgress: 1 of 2 replicas',
    );
  });

  void it('compares versions by major and minor', () => {
    assert.equal(atLeast('v1.35.4', [1, 28]), true);
    assert.equal(atLeast('1.27', [1, 28]), false);
    assert.equal(atLeast('2.9.10', [2, 9]), true);
    assert.equal(atLeast('15.20 (Debian 15.20-0+deb12u1)', [14, 0]), true);
  });

  void it('completes verbs and their flags from the program itself', () => {
    const program = new Command('capstan');
    program.command('get').option('-A, --all-namespaces').description('list');
    program.command('tree').option('-n, --namespace <ns>');
    const bash = bashCompletion(program);
    assert.match(bash, /compgen -W "get tree"/);
    assert.match(bash, /get\) opts="-A --all-namespaces syncs repositories releases canaries images"/);
    assert.match(fishCompletion(program), /__fish_seen_subcommand_from tree' -l namespace/);
  });
});
