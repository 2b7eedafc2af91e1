import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { matchesFilter } from './filter.js';
import {
  CrossNamespaceSubscriptionError,
  parseSubscription,
  type SubscriptionResource,
} from './subscription.js';

const resource = (namespace: string, filter: Record<string, string[]>): SubscriptionResource => ({
  apiVersion: 'capstan.dev/v1alpha1',
  kind: 'Subscription',
  metadata: { name: 'deploys', namespace, generation: 1 },
  spec: { url: 'https://hooks.example.com/x', filter },
});
const decision = (namespace: string) => ({
  action: 'applied',
  decidedBy: { kind: 'Sync', namespace, name: 'app' },
  targets: [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'team-a', name: 'c', action: 'created' }],
});

void describe('Subscriptions between tenants', () => {
  void it('hear only their own namespace’s decisions when cross-namespace references are off', () => {
    const sub = parseSubscription(resource('team-a', {}), false);
    assert.equal(sub.scope, 'namespace');
    assert.equal(matchesFilter(sub.filter, sub.namespace, decision('team-a'), sub.scope), true);
    // Team B's Sync deploying into team-a is still team B's story: its commits, its authors.
    assert.equal(matchesFilter(sub.filter, sub.namespace, decision('team-b'), sub.scope), false);
  });

  void it('are refused when their filter names another namespace, naming what', () => {
    assert.throws(
      () =>
        parseSubscription(
          resource('team-a', { namespaces: ['team-a', 'team-b'], syncs: ['team-c/app'] }),
          false,
        ),
      (e: unknown) =>
        e instanceof CrossNamespaceSubscriptionError &&
        /spec\.filter names namespace team-b, Sync team-c\/app outside its namespace/.test(e.message),
    );
    assert.equal(
      parseSubscription(resource('team-a', { syncs: ['app', 'team-a/web'] }), false).scope,
      'namespace',
    );
  });

  void it('follow any namespace their filter names when the installation allows it', () => {
    const sub = parseSubscription(resource('ops', { namespaces: ['team-b'] }), true);
    assert.equal(sub.scope, 'cluster');
    assert.equal(matchesFilter(sub.filter, sub.namespace, decision('team-b'), sub.scope), true);
  });
});
