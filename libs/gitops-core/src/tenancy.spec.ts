import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  InvalidTenancyPolicyError,
  checkObjects,
  checkSource,
  governing,
  matchesPattern,
  parseTenancyPolicy,
  type PlannedObject,
} from './index.js';

// Two tenants as a platform team would write them: team-a by name, team-b by label.
const teamA = parseTenancyPolicy({
  metadata: { name: 'team-a' },
  spec: {
    namespaces: ['team-a', 'team-a-*'],
    sourceRepos: ['https://git.example.com/team-a/*'],
    destinationNamespaces: ['team-a', 'team-a-*'],
    clusterResources: [{ group: '', kind: 'Namespace' }],
  },
});
const teamB = parseTenancyPolicy({
  metadata: { name: 'team-b' },
  spec: {
    namespaceSelector: {
      matchLabels: { tenant: 'b' },
      matchExpressions: [{ key: 'frozen', operator: 'DoesNotExist' }],
    },
    sourceRepos: ['https://git.example.com/team-b/config.git'],
    destinationNamespaces: ['team-b'],
  },
});
const policies = [teamA, teamB];

const object = (apiVersion: string, kind: string, name: string, namespace?: string): PlannedObject => ({
  apiVersion,
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}) },
});

describe('tenancy policy', () => {
  it('governs namespaces by name pattern or by labels', () => {
    assert.deepEqual(
      governing(policies, { name: 'team-a-staging', labels: {} }).map((p) => p.name),
      ['team-a'],
    );
    assert.deepEqual(
      governing(policies, { name: 'payments', labels: { tenant: 'b' } }).map((p) => p.name),
      ['team-b'],
    );
    assert.deepEqual(governing(policies, { name: 'payments', labels: { tenant: 'b', frozen: 'yes' } }), []);
    assert.deepEqual(
      governing(policies, { name: 'platform', labels: {} }),
      [],
      'ungoverned: no policy applies',
    );
  });

  it('allows only the listed sources, naming the policy and the rule otherwise', () => {
    assert.deepEqual(checkSource([teamA], 'https://git.example.com/team-a/apps.git'), []);
    assert.deepEqual(checkSource([teamA], 'https://git.example.com/team-b/config.git'), [
      {
        policy: 'team-a',
        rule: 'sourceRepos',
        message:
          'TenancyPolicy team-a (rule sourceRepos) does not allow source https://git.example.com/team-b/config.git',
      },
    ]);
    assert.equal(
      matchesPattern('https://git.example.com/team-a/*', 'https://git.example.com/team-a.evil/x'),
      false,
    );
  });

  it('refuses a ClusterRoleBinding and objects written into another tenant’s namespace', () => {
    const refusals = checkObjects(
      [teamA],
      [
        object('apps/v1', 'Deployment', 'web', 'team-a'),
        object('v1', 'Namespace', 'team-a-preview'),
        object('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'pwn'),
        object('v1', 'Secret', 'loot', 'team-b'),
      ],
    );
    assert.deepEqual(
      refusals.map((r) => [r.rule, r.object]),
      [
        ['clusterResources', 'ClusterRoleBinding/pwn'],
        ['destinationNamespaces', 'team-b/Secret/loot'],
      ],
    );
    assert.match(refusals[0]?.message ?? '', /rbac\.authorization\.k8s\.io\/ClusterRoleBinding/);
  });

  it('needs every governing policy to agree', () => {
    const both = governing(policies, { name: 'team-a', labels: { tenant: 'b' } });
    assert.equal(both.length, 2);
    const refusals = checkObjects(both, [object('v1', 'ConfigMap', 'c', 'team-a')]);
    assert.deepEqual(
      refusals.map((r) => r.policy),
      ['team-b'],
    );
  });

  it('refuses a policy it cannot read, naming the field', () => {
    assert.throws(
      () => parseTenancyPolicy({ metadata: { name: 'p' }, spec: { sourceRepos: ['x'] } }),
      (e: unknown) => e instanceof InvalidTenancyPolicyError && /spec\.namespaces/.test(e.message),
    );
    assert.throws(
      () =>
        parseTenancyPolicy({
          metadata: { name: 'p' },
          spec: { namespaces: ['a'], clusterResources: [{ group: 'rbac.authorization.k8s.io' }] },
        }),
      /TenancyPolicy p: spec\.clusterResources\[0\]\.kind must be a non-empty string/,
    );
  });
});
