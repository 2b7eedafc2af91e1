import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isImmutableFieldError, reconcileMode } from './reconcile-annotations.js';
import { differsFromLive } from './live-compare.js';
import { refOfEntry, staleObjects } from './inventory.js';
import { unifiedDiff } from './text-diff.js';
import { redactPair } from './secret-redaction.js';

describe('reconcile annotations', () => {
  it('reads the opt-outs, Capstan and Flux v1', () => {
    const m = (annotations: Record<string, string>) => reconcileMode({ metadata: { annotations } });
    assert.equal(m({}), 'managed');
    assert.equal(m({ 'capstan.dev/reconcile': 'disabled' }), 'ignored');
    assert.equal(m({ 'fluxcd.io/ignore': 'true' }), 'ignored');
    assert.equal(m({ 'fluxcd.io/ignore': 'sync_only' }), 'sync-only');
    assert.equal(m({ 'fluxcd.io/ignore': 'false' }), 'managed');
  });

  it('recognises immutable-field messages of the API server', () => {
    assert.ok(
      isImmutableFieldError(
        'Job.batch "m" is invalid: spec.template: Invalid value: ...: field is immutable',
      ),
    );
    assert.ok(
      isImmutableFieldError(
        'spec.clusterIPs[0]: Invalid value: []string{"10.0.0.9"}: may not change once set',
      ),
    );
    assert.ok(
      isImmutableFieldError("spec: Forbidden: updates to statefulset spec for fields other than 'replicas'"),
    );
    assert.equal(
      isImmutableFieldError('spec.replicas: Invalid value: -1: must be greater than or equal to 0'),
      false,
    );
  });
});

describe('differsFromLive', () => {
  it('ignores server-managed metadata and status, sees spec and label changes', () => {
    const live = {
      kind: 'ConfigMap',
      metadata: {
        name: 'a',
        resourceVersion: '1',
        generation: 1,
        managedFields: [{}],
        creationTimestamp: 't',
        uid: 'u',
      },
      data: { a: '1' },
      status: { x: 1 },
    };
    const same = {
      kind: 'ConfigMap',
      metadata: { name: 'a', resourceVersion: '2', managedFields: [{ x: 1 }] },
      data: { a: '1' },
    };
    assert.equal(differsFromLive(same, live), false);
    assert.equal(differsFromLive({ ...same, data: { a: '2' } }, live), true);
    assert.equal(differsFromLive({ ...same, metadata: { name: 'a', labels: { x: 'y' } } }, live), true);
  });
});

describe('inventory', () => {
  it('parses ids and lists stale objects in reverse apply order, ignoring version moves', () => {
    assert.deepEqual(refOfEntry({ id: '_apps__Namespace', v: 'v1' }), {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'apps' },
    });
    const previous = [
      { id: '_apps__Namespace', v: 'v1' },
      { id: 'apps_web_apps_Deployment', v: 'v1' },
      { id: 'apps_web__Service', v: 'v1' },
      { id: 'apps_cfg__ConfigMap', v: 'v1' },
      { id: 'apps_w_example.com_Widget', v: 'v1beta1' },
    ];
    const next = [
      { id: 'apps_web__Service', v: 'v1' },
      { id: 'apps_w_example.com_Widget', v: 'v1' },
    ];
    assert.deepEqual(
      staleObjects(previous, next).map((r) => `${r.kind}/${r.metadata.name}`),
      ['Deployment/web', 'ConfigMap/cfg', 'Namespace/apps'],
    );
  });
});

describe('unifiedDiff and redactPair', () => {
  it('shows changed lines with context and nothing for equal texts', () => {
    assert.equal(unifiedDiff('a\nb\n', 'a\nb\n'), '');
    assert.equal(unifiedDiff('a\nb\nc\n', 'a\nB\nc\n'), '@@ -1,3 +1,3 @@\n a\n-b\n+B\n c');
    assert.equal(unifiedDiff('', 'x: 1\n'), '@@ -1,0 +1,1 @@\n+x: 1');
  });

  it('never shows Secret values, but says which changed', () => {
    const before = { kind: 'Secret', metadata: { name: 's' }, data: { a: 'c2VjcmV0', b: 'eA==' } };
    const after = { kind: 'Secret', metadata: { name: 's' }, data: { a: 'c2VjcmV0', b: 'eQ==' } };
    const masked = redactPair(before, after);
    assert.deepEqual(masked.before?.data, { a: '(redacted)', b: '(redacted) (before)' });
    assert.deepEqual(masked.after?.data, { a: '(redacted)', b: '(redacted) (after)' });
    assert.equal(JSON.stringify(masked).includes('c2VjcmV0'), false);
  });
});
