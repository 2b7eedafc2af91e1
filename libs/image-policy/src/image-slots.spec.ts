import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyEdits,
  decideSlot,
  findImageSlots,
  formatImageRef,
  parseFluxV1Filter,
  selectTag,
  YamlFileError,
  type ImageSlot,
  type PolicyPick,
} from './index.js';
import {
  FLUX_V1_DEPLOYMENT,
  FLUX_V1_HELMRELEASE,
  HELM_SHAPES,
  LOCKED_DEPLOYMENT,
  SETTERS,
} from './fixtures.js';

const summary = (s: ImageSlot) => ({
  object: `${s.object.namespace}/${s.object.kind}/${s.object.name}`,
  container: s.container,
  image: s.current ? formatImageRef(s.current) : s.currentText,
  write: s.write.kind,
  policy:
    s.policy.source === 'flux-v1' ? s.policy.filter : `${s.policy.policy.namespace}:${s.policy.policy.name}`,
  automated: s.automated,
});

describe('finding images in Git', () => {
  it('reads the workshop HelmRelease: automated chart-image under semver:~3.0', () => {
    const slots = findImageSlots({ path: 'prod/podinfo.yaml', text: FLUX_V1_HELMRELEASE });
    assert.deepEqual(slots.map(summary), [
      {
        object: 'prod/HelmRelease/podinfo',
        container: 'chart-image',
        image: 'docker.io/stefanprodan/podinfo:3.0.0',
        write: 'parts',
        policy: 'semver:~3.0',
        automated: true,
      },
    ]);
  });

  it('reads containers and init containers with the legacy prefix and filter.fluxcd.io', () => {
    const slots = findImageSlots({ path: 'shop/web.yaml', text: FLUX_V1_DEPLOYMENT });
    assert.deepEqual(
      slots.map((s) => [s.container, s.current && formatImageRef(s.current), summary(s).policy]),
      [
        ['migrate', 'ghcr.io/acme/migrate:7', 'glob:*'],
        ['web', 'ghcr.io/acme/web:1.2', 'glob:1.*'],
        ['sidecar', 'docker.io/library/nginx:v1', 'regexp:^v\\d+$'],
      ],
    );
    assert.ok(slots.every((s) => s.automated && !s.locked));
  });

  it('reads locks with their user and message, and tag_all for every container', () => {
    const [api] = findImageSlots({ path: 'shop/api.yaml', text: LOCKED_DEPLOYMENT });
    assert.deepEqual(api?.locked, { user: 'Ada <ada@example.com>', message: 'incident 42' });
    assert.equal(api.policy.source === 'flux-v1' && api.policy.filter, 'semver:^2');
  });

  it('auto-detects every Helm values shape and follows explicit value paths', () => {
    const slots = findImageSlots({ path: 'demo/shapes.yaml', text: HELM_SHAPES });
    assert.deepEqual(
      slots.map((s) => [s.container, s.current && formatImageRef(s.current), s.write.kind]),
      [
        ['worker', 'ghcr.io/acme/worker:0.1.0', 'parts'],
        ['chart-image', 'quay.io/acme/app:1.0.0', 'image'],
        ['cache', 'docker.io/library/redis:6.0', 'parts'],
        ['db', 'docker.io/bitnami/postgresql:11.5.0', 'parts'],
        ['proxy', 'ghcr.io/acme/proxy:v2.1.0', 'parts'],
      ],
    );
  });

  it('reads Flux v2 setter markers with :name, :tag and :digest', () => {
    const slots = findImageSlots({ path: 'apps/podinfo.yaml', text: SETTERS });
    assert.deepEqual(
      slots.map((s) => [s.object.kind, s.write.kind === 'setter' && s.write.field, summary(s).policy]),
      [
        ['Deployment', 'image', 'flux-system:podinfo'],
        ['HelmRelease', 'name', 'flux-system:podinfo'],
        ['HelmRelease', 'tag', 'flux-system:podinfo'],
        ['HelmRelease', 'digest', 'flux-system:podinfo'],
      ],
    );
  });

  it('names the file and document of YAML it cannot parse', () => {
    assert.throws(
      () => findImageSlots({ path: 'bad.yaml', text: 'a: 1\n---\nb: [unclosed\n' }),
      (e: unknown) => e instanceof YamlFileError && /bad\.yaml \(document 2\)/.test(e.message),
    );
  });
});

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const pickFor = (slot: ImageSlot, tags: string[], pinDigest = false): PolicyPick => {
  const policy = {
    ...parseFluxV1Filter(slot.policy.source === 'flux-v1' ? slot.policy.filter : '*'),
    pinDigest,
  };
  return {
    policyName: 'fluxcd.io/tag.chart-image semver:~3.0',
    policy,
    image: slot.current!,
    selection: selectTag(
      policy,
      tags.map((tag) => ({ tag, digest: DIGEST })),
    ),
  };
};
const noGuards = { pushedTags: [], failedImages: new Set<string>() };

describe('deciding and rewriting', () => {
  const text = FLUX_V1_HELMRELEASE;
  const [slot] = findImageSlots({ path: 'prod/podinfo.yaml', text });

  it('rewrites only the tag, keeping comments and layout byte for byte', () => {
    const d = decideSlot(slot!, pickFor(slot!, ['3.0.0', '3.0.1', '3.1.0']), {
      ...noGuards,
      pushedTags: ['3.0.1'],
    });
    if (d.kind !== 'update') return assert.fail(`expected an update, got ${JSON.stringify(d)}`);
    assert.equal(applyEdits(text, d.edits), text.replace('tag: 3.0.0', 'tag: 3.0.1'));
    assert.equal(formatImageRef(d.to), 'docker.io/stefanprodan/podinfo:3.0.1');
  });

  it('pins the digest when asked', () => {
    const d = decideSlot(slot!, pickFor(slot!, ['3.0.1'], true), noGuards);
    assert.equal(d.kind === 'update' && applyEdits(text, d.edits).includes(`tag: 3.0.1@${DIGEST}`), true);
  });

  it('explains a pushed tag the policy does not select', () => {
    const [current] = findImageSlots({ path: 'p.yaml', text: text.replace('tag: 3.0.0', 'tag: 3.0.1') });
    const d = decideSlot(current!, pickFor(current!, ['3.0.1', '3.1.0']), {
      ...noGuards,
      pushedTags: ['3.1.0'],
    });
    assert.deepEqual(d.kind === 'skip' && [d.reason, d.message], [
      'NotSelected',
      '3.1.0 not selected by fluxcd.io/tag.chart-image semver:~3.0; 3.0.1 is the highest of 1 tag(s) in semver range ~3.0, which prod/HelmRelease/podinfo already runs',
    ]);
  });

  it('never overwrites a lock, a person rollback or an image a canary failed with', () => {
    const [locked] = findImageSlots({ path: 'api.yaml', text: LOCKED_DEPLOYMENT });
    const l = decideSlot(locked!, pickFor(locked!, ['2.1.0']), noGuards);
    assert.deepEqual(l.kind === 'skip' && [l.reason, l.message], [
      'Locked',
      'shop/Deployment/api is locked by Ada <ada@example.com>: incident 42; not updating api',
    ]);
    const rolledBack = decideSlot(slot!, pickFor(slot!, ['3.0.0', '3.0.1']), {
      ...noGuards,
      humanRollback: { from: '3.0.1', to: '3.0.0', by: 'Ada', sha: 'abcdef1234567890' },
    });
    assert.equal(rolledBack.kind === 'skip' && rolledBack.reason, 'HumanRollback');
    const newer = decideSlot(slot!, pickFor(slot!, ['3.0.0', '3.0.1', '3.0.2']), {
      ...noGuards,
      humanRollback: { from: '3.0.1', to: '3.0.0', by: 'Ada', sha: 'abcdef1234567890' },
    });
    assert.equal(
      newer.kind === 'update' && newer.to.tag,
      '3.0.2',
      'a newer image than the rolled-back one goes',
    );
    const canary = decideSlot(slot!, pickFor(slot!, ['3.0.1']), {
      ...noGuards,
      failedImages: new Set(['docker.io/stefanprodan/podinfo:3.0.1']),
    });
    assert.equal(canary.kind === 'skip' && canary.reason, 'CanaryFailed');
  });

  it('writes setters in their own style: whole image, name, tag, digest', () => {
    const slots = findImageSlots({ path: 'apps/podinfo.yaml', text: SETTERS });
    const policy = { order: { kind: 'semver' as const, range: '>=5.0.0' } };
    const pick: PolicyPick = {
      policyName: 'flux-system/podinfo',
      policy,
      image: { registry: 'ghcr.io', repository: 'stefanprodan/podinfo' },
      selection: selectTag(policy, [{ tag: '5.1.0', digest: DIGEST }]),
    };
    const edits = slots.flatMap((s) => {
      const d = decideSlot(s, pick, noGuards);
      return d.kind === 'update' ? d.edits : [];
    });
    const out = applyEdits(SETTERS, edits);
    assert.match(
      out,
      /image: ghcr\.io\/stefanprodan\/podinfo:5\.1\.0 # \{"\$imagepolicy": "flux-system:podinfo"\}/,
    );
    assert.match(out, /tag: '5\.1\.0' # \{"\$imagepolicy": "flux-system:podinfo:tag"\}/);
    assert.match(out, new RegExp(`digest: ${DIGEST} #`));
    assert.match(out, /repository: ghcr\.io\/stefanprodan\/podinfo # /);
  });
});
