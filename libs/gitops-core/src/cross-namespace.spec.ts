import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crossNamespaceRefusal } from './cross-namespace.js';

describe('crossNamespaceRefusal', () => {
  const ref = (namespace?: string) => ({ kind: 'ImageRepository', name: 'app', namespace });

  it('lets an object name objects of its own namespace, or with no namespace given', () => {
    assert.equal(crossNamespaceRefusal('spec.ref', 'team-a', ref('team-a'), false), undefined);
    assert.equal(crossNamespaceRefusal('spec.ref', 'team-a', ref(), false), undefined);
    assert.equal(crossNamespaceRefusal('spec.ref', 'team-a', ref(''), false), undefined);
  });

  it('refuses another namespace by default, naming the field, the object and the setting', () => {
    assert.deepEqual(crossNamespaceRefusal('spec.imageRepositoryRef', 'team-a', ref('team-b'), false), {
      reason: 'CrossNamespaceRefNotAllowed',
      message:
        'spec.imageRepositoryRef: ImageRepository team-b/app is in another namespace than team-a; cross-namespace references are off (tenancy.allowCrossNamespaceRefs)',
    });
  });

  it('allows another namespace when the installation does', () => {
    assert.equal(crossNamespaceRefusal('spec.ref', 'team-a', ref('team-b'), true), undefined);
  });
});
