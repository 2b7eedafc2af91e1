import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '@capstan/gitops-core';
import { changedBeyondWindow, creditChanges, renderedForms } from './attribution.js';

const cm = (name: string, value: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'shop' },
  data: { value },
});
const forms = (...objects: KubeObject[]) => renderedForms(objects, (o) => o.metadata.namespace ?? 'default');
const entry = (name: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  namespace: 'shop',
  name,
  action: 'configured' as const,
});

describe('creditChanges', () => {
  it('credits each object to the last commit that changed its rendered form', () => {
    const before = forms(cm('a', '1'), cm('b', '1'), cm('c', '1'));
    const commitA = forms(cm('a', '2'), cm('b', '1'), cm('c', '1')); // changes a (and failed)
    const commitB = forms(cm('a', '2'), cm('b', '2'), cm('c', '1')); // changes b
    assert.deepEqual(
      creditChanges(before, [commitA, commitB], [entry('a'), entry('b'), entry('c')]),
      [0, 1, 1],
    );
  });

  it('skips a commit that did not render, and credits new objects to the commit that added them', () => {
    const before = forms(cm('a', '1'));
    assert.deepEqual(
      creditChanges(
        before,
        [forms(cm('a', '1'), cm('n', '1')), undefined, forms(cm('a', '3'), cm('n', '1'))],
        [entry('n'), entry('a')],
      ),
      [0, 2],
    );
  });

  it('tells a change made beyond the walked window from one the window made or drift', () => {
    const last = forms(cm('a', '1'), cm('b', '1'));
    const boundary = forms(cm('a', '2'), cm('b', '1')); // a changed by a commit not walked
    assert.equal(changedBeyondWindow(last, boundary, entry('a')), true);
    assert.equal(changedBeyondWindow(last, boundary, entry('b')), false);
    // A side that did not render is no evidence either way.
    assert.equal(changedBeyondWindow(undefined, boundary, entry('a')), false);
  });
});
