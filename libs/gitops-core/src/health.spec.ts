import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { healthOf, type LiveObject } from './health.js';

const obj = (yaml: string) => parse(yaml) as LiveObject;
const status = (yaml: string) => healthOf(obj(yaml)).status;

describe('healthOf', () => {
  it('Pod: a run-to-completion pod (a Helm hook) is current once it succeeded', () => {
    const base = 'apiVersion: v1\nkind: Pod\nmetadata: {name: migrate}\n';
    assert.equal(status(`${base}status: {phase: Pending}`), 'InProgress');
    assert.equal(status(`${base}status: {phase: Succeeded}`), 'Current');
    assert.equal(status(`${base}status: {phase: Failed, reason: Error}`), 'Failed');
    assert.equal(
      status(`${base}status: {phase: Running, conditions: [{type: Ready, status: "True"}]}`),
      'Current',
    );
  });

  it('Deployment: current only when every replica is updated and available', () => {
    const base = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, generation: 2}
spec: {replicas: 3}
`;
    assert.equal(status(base), 'InProgress'); // never observed
    assert.equal(
      status(`${base}status: {observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 3}`),
      'InProgress',
    );
    assert.equal(
      status(`${base}status: {observedGeneration: 2, replicas: 4, updatedReplicas: 3, availableReplicas: 3}`),
      'InProgress',
    );
    assert.equal(
      status(`${base}status: {observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 2}`),
      'InProgress',
    );
    assert.equal(
      status(`${base}status: {observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3}`),
      'Current',
    );
    const stuck = healthOf(
      obj(`${base}status:
  observedGeneration: 2
  replicas: 3
  updatedReplicas: 1
  conditions: [{type: Progressing, status: "False", reason: ProgressDeadlineExceeded, message: "ReplicaSet web-1 has timed out progressing."}]
`),
    );
    assert.equal(stuck.status, 'Failed');
    assert.match(stuck.message, /timed out/);
  });

  it('StatefulSet and DaemonSet: ready and rolled out', () => {
    const sts = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, generation: 1}
spec: {replicas: 2}
`;
    assert.equal(
      status(
        `${sts}status: {observedGeneration: 1, readyReplicas: 1, currentReplicas: 2, updatedReplicas: 2}`,
      ),
      'InProgress',
    );
    assert.equal(
      status(
        `${sts}status: {observedGeneration: 1, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 1, currentRevision: a, updateRevision: b}`,
      ),
      'InProgress',
    );
    assert.equal(
      status(
        `${sts}status: {observedGeneration: 1, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 2, currentRevision: b, updateRevision: b}`,
      ),
      'Current',
    );
    const ds = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, generation: 1}
`;
    assert.equal(
      status(
        `${ds}status: {observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2}`,
      ),
      'InProgress',
    );
    assert.equal(
      status(
        `${ds}status: {observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3}`,
      ),
      'Current',
    );
  });

  it('Job: Complete is current, Failed is failed, anything else in progress', () => {
    const job = `apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
`;
    assert.equal(status(`${job}status: {active: 1}`), 'InProgress');
    assert.equal(status(`${job}status: {conditions: [{type: Complete, status: "True"}]}`), 'Current');
    const f = healthOf(
      obj(
        `${job}status: {conditions: [{type: Failed, status: "True", reason: BackoffLimitExceeded, message: "Job has reached the specified backoff limit"}]}`,
      ),
    );
    assert.equal(f.status, 'Failed');
    assert.match(f.message, /BackoffLimitExceeded/);
  });

  it('Service: a LoadBalancer needs an ingress address, other types are current', () => {
    assert.equal(
      status(`{apiVersion: v1, kind: Service, metadata: {name: a}, spec: {type: ClusterIP}}`),
      'Current',
    );
    assert.equal(
      status(`{apiVersion: v1, kind: Service, metadata: {name: a}, spec: {type: LoadBalancer}}`),
      'InProgress',
    );
    assert.equal(
      status(
        `{apiVersion: v1, kind: Service, metadata: {name: a}, spec: {type: LoadBalancer}, status: {loadBalancer: {ingress: [{ip: 10.0.0.1}]}}}`,
      ),
      'Current',
    );
  });

  it('CRD: Established is current; rejected names are failed', () => {
    const crd = `{apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: a.b.c}`;
    assert.equal(status(`${crd}}`), 'InProgress');
    assert.equal(status(`${crd}, status: {conditions: [{type: Established, status: "True"}]}}`), 'Current');
    assert.equal(status(`${crd}, status: {conditions: [{type: NamesAccepted, status: "False"}]}}`), 'Failed');
  });

  it('custom resources: Ready condition, Stalled is failed, no conditions is current', () => {
    const cr = `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w, generation: 3}`;
    assert.equal(status(`${cr}}`), 'Current');
    assert.equal(
      status(
        `${cr}, status: {observedGeneration: 3, conditions: [{type: Ready, status: "False", message: "warming"}]}}`,
      ),
      'InProgress',
    );
    assert.equal(
      status(`${cr}, status: {observedGeneration: 2, conditions: [{type: Ready, status: "True"}]}}`),
      'InProgress',
    );
    assert.equal(
      status(`${cr}, status: {observedGeneration: 3, conditions: [{type: Ready, status: "True"}]}}`),
      'Current',
    );
    assert.equal(
      status(`${cr}, status: {conditions: [{type: Stalled, status: "True", message: "bad"}]}}`),
      'Failed',
    );
    assert.equal(status(`{apiVersion: v1, kind: ConfigMap, metadata: {name: c}}`), 'Current');
  });
});
