// Helpers for the Helm chart tests: run the real helm binary (from the project toolchain on
// PATH), render the chart, and apply the chart's CRD files to a real API server.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  ApiException,
  ApiextensionsV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  V1ObjectMeta,
  type KubernetesObject,
  loadYaml,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';

const execFileAsync = promisify(execFile);

/** Repository root, from e2e/dist/support/. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const chartDir = join(repoRoot, 'deploy', 'capstan');
export const crdDir = join(chartDir, 'crds');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never throws for a non-zero exit (the caller asserts on it). */
export async function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync(cmd, args, {
      cwd: repoRoot,
      env: { ...process.env, ...opts.env },
      timeout: opts.timeoutMs ?? 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT')
      throw new Error(`${cmd} is not on PATH (source scripts/lib/env.sh; run scripts/k8s-setup.sh)`);
    return {
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? e.message,
    };
  }
}

/** Runs helm; with a kubeconfig path it goes to KUBECONFIG, as helm reads it. */
export function helm(args: string[], kubeconfigPath?: string, timeoutMs?: number): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { HELM_NO_PLUGINS: '1' };
  if (kubeconfigPath) env.KUBECONFIG = kubeconfigPath;
  return run('helm', args, { env, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
}

export function describeRun(r: RunResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** A values file in a fresh temp dir; returns its path and a cleanup. */
export async function valuesFile(values: unknown): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'capstan-helm-'));
  const path = join(dir, 'values.yaml');
  await writeFile(path, JSON.stringify(values));
  return { path, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A rendered object; narrow it with ofKind() to a typed client-node model. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

/** The rendered objects of one kind, typed as the caller's model (e.g. V1Deployment). */
export function ofKind<T>(objects: K8sObject[], kind: string): (T & K8sObject)[] {
  return objects.filter((o) => o.kind === kind) as (T & K8sObject)[];
}

/** `helm template` of the chart; returns the rendered objects (throws if helm fails). */
export async function renderChart(
  args: string[] = [],
  release = 'capstan',
  namespace = 'capstan-system',
): Promise<K8sObject[]> {
  const r = await helm(['template', release, chartDir, '--namespace', namespace, ...args]);
  if (r.code !== 0) throw new Error(`helm template failed: ${describeRun(r)}`);
  return parseManifests(r.stdout);
}

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0)
        throw new Error(`bad YAML from helm: ${d.errors.map((e) => e.message).join('; ')}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null && typeof o === 'object');
}

async function crdTexts(): Promise<string[]> {
  const files = (await readdir(crdDir)).filter((f) => f.endsWith('.yaml')).sort();
  return Promise.all(files.map((f) => readFile(join(crdDir, f), 'utf8')));
}

/** The CRD files of the chart's crds/ folder, parsed as plain YAML (keys as written). */
export async function loadCrds(): Promise<V1CustomResourceDefinition[]> {
  return (await crdTexts()).map((text) => parse(text) as V1CustomResourceDefinition);
}

export function kubeConfig(kubeconfigPath: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc;
}

/**
 * Server-side applies the chart's CRDs (what `kubectl apply --server-side -f deploy/capstan/crds`
 * does) and waits until the API server serves them.
 */
export async function applyCrds(kc: KubeConfig, timeoutMs = 30_000): Promise<V1CustomResourceDefinition[]> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  // client-node serializes typed models (x-kubernetes-validations is xKubernetesValidations,
  // default is _default), so the files go through its own YAML loader, not plain YAML.
  const crds = (await crdTexts()).map((text) => loadYaml<V1CustomResourceDefinition>(text));
  for (const crd of crds) {
    await objects.patch(crd, undefined, undefined, 'capstan-e2e', true, PatchStrategy.ServerSideApply);
  }
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    const name = crd.metadata?.name ?? '';
    for (;;) {
      const live = await ext.readCustomResourceDefinition({ name });
      const established = live.status?.conditions?.some(
        (c) => c.type === 'Established' && c.status === 'True',
      );
      if (established) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return crds;
}

/** A Namespace, as KubernetesObjectApi wants it (typed models, not object literals). */
export function namespaceObject(name: string): KubernetesObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: Object.assign(new V1ObjectMeta(), { name }) };
}

/** The text of an API error (status message and causes), for assertions on rejections. */
export function apiErrorText(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = err.body;
    return `${err.code} ${typeof body === 'string' ? body : JSON.stringify(body)}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export function errorCode(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}
