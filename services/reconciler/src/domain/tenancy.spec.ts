import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Sync } from '@capstan/kube';
import { decisionFor, type DecisionContext } from './decision.js';
import { policyRefusal, crossNamespaceRefsRefusal, syncIdentity } from './tenancy.js';

const sync = (spec: Partial<Sync['spec']> = {}): Sync => ({
  apiVersion: 'capstan.dev/v1alpha1',
  kind: 'Sync',
  metadata: { name: 'app', namespace: 'team-a', uid: 'u1' },
  spec: { sourceRef: { kind: 'GitRepository', name: 'app' }, ...spec },
});

void describe('who a Sync acts as', () => {
  void it('its own account, else the installation default, always in its own namespace', () => {
    assert.deepEqual(syncIdentity(sync({ serviceAccountName: 'deployer' }), 'default-sa'), {
      namespace: 'team-a',
      name: 'deployer',
    });
    assert.deepEqual(syncIdentity(sync(), 'default-sa'), { namespace: 'team-a', name: 'default-sa' });
    assert.equal(syncIdentity(sync(), undefined), undefined, 'the reconciler’s own only when neither is set');
  });
});

void describe('tenancy refusals', () => {
  void it('refuse a sourceRef into another namespace unless allowed', () => {
    const foreign = sync({ sourceRef: { kind: 'GitRepository', name: 'private', namespace: 'team-b' } });
    assert.equal(crossNamespaceRefsRefusal(foreign, false)?.reason, 'CrossNamespaceRefNotAllowed');
    assert.equal(crossNamespaceRefsRefusal(foreign, true), undefined);
    assert.equal(
      crossNamespaceRefsRefusal(
        sync({ sourceRef: { kind: 'GitRepository', name: 'app', namespace: 'team-a' } }),
        false,
      ),
      undefined,
    );
  });

  void it('refuse a dependsOn entry into another namespace unless allowed, naming the entry', () => {
    const waiting = sync({ dependsOn: [{ name: 'infra' }, { name: 'db', namespace: 'team-b' }] });
    const refused = crossNamespaceRefsRefusal(waiting, false);
    assert.ok(refused);
    assert.equal(refused.reason, 'CrossNamespaceRefNotAllowed');
    assert.match(
      refused.message,
      /^spec\.dependsOn\[1\]: Sync team-b\/db is in another namespace than team-a/,
    );
    assert.equal(refused.failures.length, 1);
    assert.equal(crossNamespaceRefsRefusal(waiting, true), undefined);
    assert.equal(
      crossNamespaceRefsRefusal(sync({ dependsOn: [{ name: 'db', namespace: 'team-a' }] }), false),
      undefined,
    );
  });

  void it('record the policy and the rule in the failed decision', () => {
    const failure = policyRefusal([
      {
        policy: 'team-a',
        rule: 'clusterResources',
        object: 'ClusterRoleBinding/pwn',
        message:
          'TenancyPolicy team-a (rule clusterResources) does not allow the cluster-scoped rbac.authorization.k8s.io/ClusterRoleBinding ClusterRoleBinding/pwn',
      },
    ]);
    assert.ok(failure);
    assert.equal(failure.reason, 'TenancyPolicyDenied');
    const ctx: DecisionContext = {
      sync: { namespace: 'team-a', name: 'app', uid: 'u1' },
      triggerId: 't1',
      source: {
        repository: 'app',
        url: 'https://git.example.com/team-a/app.git',
        ref: 'main',
        revision: 'main@sha1:abc',
        sha: 'abc',
        parents: [],
        message: 'escalate',
        author: { name: 'Mallory', email: 'm@example.com', time: '2026-12-04T00:00:00Z' },
        committer: { name: 'Mallory', email: 'm@example.com', time: '2026-12-04T00:00:00Z' },
      },
      cluster: 'c',
      now: new Date('2026-12-04T00:00:00Z'),
      correlationId: 'corr',
    };
    const event = decisionFor(ctx, failure);
    assert.equal(event.data.action, 'failed');
    assert.equal(event.data.reason, 'TenancyPolicyDenied');
    assert.deepEqual(
      (event.data.evidence['refusals'] as { policy: string; rule: string }[]).map((r) => [r.policy, r.rule]),
      [['team-a', 'clusterResources']],
    );
  });
});
