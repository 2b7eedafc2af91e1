import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareOwned, type WatchedObject } from './drift.js';
import {
  appliedDeployment,
  desiredDeployment,
  imageEditedAndLabelAdded,
  onlyLabelAddedAndStatus,
  scaledByKubectl,
} from './drift.fixtures.js';

const compare = (live: WatchedObject) => compareOwned(desiredDeployment, live, { manager: 'capstan' });

void describe('compareOwned', () => {
  void it('finds no drift right after Capstan applied, despite the API server normalizing values', () => {
    // cpu "0.5" reads back as "500m" and the port gains protocol TCP; Capstan still owns both.
    assert.deepEqual(compare(appliedDeployment), []);
  });

  void it('reports a field another manager took over, with that manager and both values', () => {
    assert.deepEqual(compare(scaledByKubectl), [
      { path: 'spec.replicas', desired: 3, live: 5, manager: 'kubectl' },
    ]);
  });

  void it('reports a change inside an associative list by its key, and ignores labels Git does not set', () => {
    assert.deepEqual(compare(imageEditedAndLabelAdded), [
      {
        path: 'spec.template.spec.containers[name=web].image',
        desired: 'nginx:1.27',
        live: 'nginx:1.28',
        manager: 'kubectl-edit',
      },
    ]);
  });

  void it('ignores fields Capstan does not own and status', () => {
    assert.deepEqual(compare(onlyLabelAddedAndStatus), []);
  });

  void it('reports a removed owned field, naming the last other writer', () => {
    const live = structuredClone(scaledByKubectl) as WatchedObject & {
      metadata: { labels: Record<string, string> };
    };
    delete live.metadata.labels['app'];
    // Removing a field also removes its ownership: nobody owns metadata.labels.app any more.
    const capstan = live.metadata.managedFields?.find((m) => m.manager === 'capstan');
    const labels = (capstan?.fieldsV1 as { 'f:metadata': { 'f:labels': Record<string, unknown> } })[
      'f:metadata'
    ]['f:labels'];
    delete labels['f:app'];
    assert.deepEqual(compare(live), [
      { path: 'metadata.labels.app', desired: 'web', live: undefined, manager: 'kubectl' },
      { path: 'spec.replicas', desired: 3, live: 5, manager: 'kubectl' },
    ]);
  });

  void it('quotes keys that hold dots or slashes', () => {
    const live = structuredClone(appliedDeployment) as WatchedObject & {
      metadata: { labels: Record<string, string> };
    };
    live.metadata.labels['capstan.dev/sync-name'] = 'other';
    live.metadata.managedFields = [
      ...(live.metadata.managedFields ?? []),
      {
        manager: 'kubectl-label',
        operation: 'Update',
        time: '2030-01-01T00:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': { 'f:labels': { 'f:capstan.dev/sync-name': {} } } },
      },
    ];
    assert.deepEqual(
      compare(live).map((d) => [d.path, d.manager]),
      [['metadata.labels["capstan.dev/sync-name"]', 'kubectl-label']],
    );
  });
});

void describe('compareOwned, removed fields', () => {
  // Capstan wrote last and the label is gone: its own newer apply (the label left Git) removed it.
  const removedByCapstan = (): WatchedObject => {
    const live = structuredClone(appliedDeployment) as WatchedObject & {
      metadata: { labels: Record<string, string> };
    };
    delete live.metadata.labels['app'];
    const capstan = live.metadata.managedFields?.find((m) => m.manager === 'capstan');
    const labels = (capstan?.fieldsV1 as { 'f:metadata': { 'f:labels': Record<string, unknown> } })[
      'f:metadata'
    ]['f:labels'];
    delete labels['f:app'];
    return live;
  };

  void it('is not drift when Capstan may have removed it in a newer apply', () => {
    assert.deepEqual(compareOwned(desiredDeployment, removedByCapstan(), { manager: 'capstan' }), []);
  });

  void it('is drift when Capstan last wrote before the desired state was applied', () => {
    const live = removedByCapstan();
    const ours = live.metadata?.managedFields?.find((m) => m.manager === 'capstan')?.time ?? '';
    const later = new Date(Date.parse(ours) + 5_000);
    assert.deepEqual(
      compareOwned(desiredDeployment, live, { manager: 'capstan', desiredSince: later }).map((d) => d.path),
      ['metadata.labels.app'],
    );
  });
});
