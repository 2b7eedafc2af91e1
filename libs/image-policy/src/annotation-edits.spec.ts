import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findImageSlots, setLock } from './index.js';

// `capstan lock` / `unlock` change the lock annotations and nothing else: every other byte of the
// file (comments, key order, quoting, flow maps, the other documents) is as the team wrote it.
const FLEET = `# fleet: the web tier
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config, namespace: shop}
data:
  greeting: 'hello'   # single quotes on purpose
---
# the web Deployment
apiVersion: apps/v1
kind: Deployment
metadata:
  namespace: shop      # namespace first, as this team writes it
  name: web
  labels: {app: web}
  annotations:
    fluxcd.io/automated: 'true'   # automation on
    fluxcd.io/tag.web: "semver:~1.2"
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.2 # CI bumps this
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  ports: [{port: 80}]
`;

const web = { namespace: 'shop', kind: 'Deployment', name: 'web' };

describe('lock and unlock edit only the annotations', () => {
  it('adds the lock lines to a multi-document file and removes them again, byte for byte', () => {
    const locked = setLock(FLEET, web, { user: 'Ada', message: 'incident 42: hold' });
    assert.equal(
      locked,
      FLEET.replace(
        '    fluxcd.io/tag.web: "semver:~1.2"\n',
        '    fluxcd.io/tag.web: "semver:~1.2"\n' +
          '    fluxcd.io/locked: "true"\n' +
          '    fluxcd.io/locked_user: Ada\n' +
          '    fluxcd.io/locked_msg: "incident 42: hold"\n',
      ),
    );
    assert.deepEqual(findImageSlots({ path: 'fleet.yaml', text: locked })[0]?.locked, {
      user: 'Ada',
      message: 'incident 42: hold',
    });
    assert.equal(setLock(locked, web, undefined), FLEET);
  });

  it('changes an existing lock in place, in its own quoting, and drops the legacy prefix', () => {
    const before = FLEET.replace(
      "    fluxcd.io/automated: 'true'   # automation on\n",
      "    flux.weave.works/locked: 'true'  # old lock\n" +
        "    fluxcd.io/locked_msg: 'load test'\n" +
        "    fluxcd.io/automated: 'true'   # automation on\n",
    );
    const relocked = setLock(before, web, { message: "Ada's incident" });
    assert.equal(
      relocked,
      FLEET.replace(
        "    fluxcd.io/automated: 'true'   # automation on\n",
        "    fluxcd.io/locked_msg: 'Ada''s incident'\n" +
          "    fluxcd.io/automated: 'true'   # automation on\n",
      ).replace(
        '    fluxcd.io/tag.web: "semver:~1.2"\n',
        '    fluxcd.io/tag.web: "semver:~1.2"\n    fluxcd.io/locked: "true"\n',
      ),
    );
    assert.equal(setLock(relocked, web, undefined), FLEET);
  });

  it('adds an annotations block where there was none, indented as the file is, and removes it whole', () => {
    const text = `apiVersion: apps/v1   # first document, leading comment kept
kind: Deployment
metadata:
    name: web
    namespace: shop
spec: {replicas: 1}
`;
    const locked = setLock(text, web, { user: 'Ada' });
    assert.equal(
      locked,
      text.replace(
        '    namespace: shop\n',
        '    namespace: shop\n    annotations:\n        fluxcd.io/locked: "true"\n        fluxcd.io/locked_user: Ada\n',
      ),
    );
    assert.equal(setLock(locked, web, undefined), text);
  });

  it('locks a workload written with flow maps', () => {
    const text = `# api
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}  # one line
spec: {replicas: 1}
`;
    const api = { namespace: 'shop', kind: 'deployment', name: 'api' };
    const locked = setLock(text, api, { user: 'Ada Lovelace', message: 'a, b' });
    assert.equal(
      locked,
      text.replace(
        '{name: api, namespace: shop}',
        '{name: api, namespace: shop, annotations: {fluxcd.io/locked: "true", fluxcd.io/locked_user: "Ada Lovelace", fluxcd.io/locked_msg: "a, b"}}',
      ),
    );
    assert.equal(setLock(locked, api, undefined), text);
    const annotated = text.replace('namespace: shop}', 'namespace: shop, annotations: {team: web}}');
    assert.equal(
      setLock(annotated, api, {}),
      annotated.replace('{team: web}', '{team: web, fluxcd.io/locked: "true"}'),
    );
    assert.equal(setLock(setLock(annotated, api, {}), api, undefined), annotated);
  });

  it('turns an unquoted boolean lock into the string Kubernetes wants, leaving the rest', () => {
    const text = FLEET.replace(
      '    fluxcd.io/tag.web: "semver:~1.2"\n',
      '    fluxcd.io/tag.web: "semver:~1.2"\n    fluxcd.io/locked: true # by hand\n',
    );
    assert.equal(
      setLock(text, web, {}),
      text.replace('fluxcd.io/locked: true # by hand', 'fluxcd.io/locked: "true" # by hand'),
    );
  });
});
