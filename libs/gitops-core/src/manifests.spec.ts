import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManifestError, assertUnique, inventoryId, parseManifests } from './index.js';

describe('parseManifests', () => {
  it('reads multi-document files in order, skipping empty documents and expanding Lists', () => {
    const objects = parseManifests([
      {
        path: 'app/deploy.yaml',
        content:
          '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\n',
      },
      {
        path: 'app/list.yaml',
        content:
          'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: c}}\n',
      },
      { path: 'empty.yaml', content: '' },
    ]);
    assert.deepEqual(
      objects.map((o) => [o.object.kind, o.origin.file, o.origin.document]),
      [
        ['ConfigMap', 'app/deploy.yaml', 0],
        ['Service', 'app/deploy.yaml', 2],
        ['Secret', 'app/list.yaml', 0],
      ],
    );
  });

  it('names the file and the document of malformed YAML', () => {
    const bad = {
      path: 'apps/broken.yaml',
      content: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\nkind: [unclosed\n',
    };
    assert.throws(
      () => parseManifests([bad]),
      (e: unknown) =>
        e instanceof ManifestError &&
        e.file === 'apps/broken.yaml' &&
        e.document === 1 &&
        /document 2/.test(e.message),
    );
  });

  it('rejects documents that are not Kubernetes objects, naming the missing field', () => {
    assert.throws(
      () => parseManifests([{ path: 'x.yaml', content: 'apiVersion: v1\nmetadata: {name: a}\n' }]),
      /x.yaml \(document 1\): missing kind/,
    );
    assert.throws(
      () => parseManifests([{ path: 'x.yaml', content: 'apiVersion: v1\nkind: Pod\nmetadata: {}\n' }]),
      /Pod: missing metadata.name/,
    );
    assert.throws(() => parseManifests([{ path: 'x.yaml', content: '- a\n- b\n' }]), /expected a mapping/);
  });

  it('refuses the same object declared twice', () => {
    const doc = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: n}\n';
    const objects = parseManifests([
      { path: 'one.yaml', content: doc },
      { path: 'two.yaml', content: doc },
    ]);
    assert.throws(() => assertUnique(objects, (o) => inventoryId(o)), /two.yaml .*also declared in one.yaml/);
  });
});
