import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpChartFetcher } from './chart-fetcher.js';
import { RenderError } from './errors.js';
import { DEFAULT_RENDER_LIMITS, type RenderLimits } from './limits.js';
import { render, type RenderInput } from './render.js';
import { materialize } from './repository.js';
import { generateText, readHostileCases, type GeneratedText } from './testing/index.js';
import type { ValuesSource } from './values-source.js';

/** A HelmRelease row: its chart fields, extra spec lines, and the chart's git URL. */
type ReleaseText = { release: string; more?: string; git?: string; repository?: string };

interface RenderCase {
  name: string;
  files: Record<string, GeneratedText | ReleaseText>;
  path?: string;
  limits?: Partial<RenderLimits>;
  oversized?: Record<string, number>;
  options?: { remoteBases?: boolean; sourceSchemes?: string[] };
  error: { file: string; match: string };
}

const SYNCED = 'https://git.example.com/fleet';

function fileText(spec: GeneratedText | ReleaseText): string {
  if (typeof spec === 'object' && 'release' in spec)
    return `apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata: {name: app, namespace: hostile}
spec:
  releaseName: app
  chart: ${
    spec.repository === undefined
      ? `{git: ${JSON.stringify(spec.git ?? SYNCED)}, ${spec.release.includes('ref:') ? '' : 'ref: main, '}${spec.release}}`
      : `{repository: ${JSON.stringify(spec.repository)}, ${spec.release}}`
  }
${spec.more ?? ''}`;
  return generateText(spec);
}

/** Values from the cluster are not part of this corpus: every read finds nothing. */
const noClusterValues: ValuesSource = { read: () => Promise.resolve(undefined) };

// The corpus of hostile repositories (fixtures/hostile/render.yaml), each rendered with the real
// helm and kustomize: every case fails with a RenderError naming the file and the rule or limit,
// and the renderer keeps working for the next, good, repository.
describe('hostile repositories', async () => {
  const cases = await readHostileCases<RenderCase>(
    new URL('../fixtures/hostile/render.yaml', import.meta.url),
  );
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  async function renderFiles(
    files: Record<string, string>,
    extra: Partial<RenderInput> & { path?: string },
  ): Promise<Awaited<ReturnType<typeof render>>> {
    const root = await mkdtemp(join(tmpdir(), 'capstan-hostile-'));
    dirs.push(root);
    await materialize(
      Object.entries(files).map(([path, content]) => ({ path, content })),
      root,
    );
    return render({
      root,
      path: undefined,
      defaultNamespace: 'hostile',
      repositoryUrl: SYNCED,
      repositoryRef: 'main',
      values: noClusterValues,
      // As the reconciler builds it: chart repositories' addresses are checked.
      charts: new HttpChartFetcher(join(root, '.charts'), 10_000, {}, { checkAddresses: true }),
      helm: 'helm',
      kustomize: 'kustomize',
      ...extra,
    });
  }

  it('has at least 70 cases, each named once', () => {
    assert.ok(cases.length >= 70, `${cases.length} cases`);
    assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const files = Object.fromEntries(Object.entries(c.files).map(([path, spec]) => [path, fileText(spec)]));
      await assert.rejects(
        renderFiles(files, {
          path: c.path,
          limits: { ...DEFAULT_RENDER_LIMITS, ...c.limits },
          ...(c.oversized ? { oversized: new Map(Object.entries(c.oversized)) } : {}),
          ...(c.options?.remoteBases ? { kustomizeRemoteBases: true } : {}),
          ...(c.options?.sourceSchemes ? { sourceSchemes: c.options.sourceSchemes } : {}),
        }),
        (e: unknown) => {
          assert.ok(e instanceof RenderError, `a RenderError, not ${String(e)}`);
          assert.equal(e.file, c.error.file, e.message);
          assert.match(e.message, new RegExp(c.error.match), e.message);
          return true;
        },
      );
      // The renderer is unharmed: a good repository renders right after.
      const good = await renderFiles(
        {
          'app/kustomization.yaml': 'resources: [cm.yaml]\n',
          'app/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\n',
        },
        { path: 'app' },
      );
      assert.deepEqual(
        good.objects.map((o) => o.object.metadata.name),
        ['fine'],
      );
    });
  }
});
