import { type Command } from 'commander';
import { ObjectApi, createKubeConfig } from '@capstan/kube';
import { AuditApiError, AuditClient } from '../audit-client.js';
import { UsageError } from '../object-ref.js';
import type { CliConfig } from '../config.js';
import {
  renderCanaryGet,
  renderCanaryTimeline,
  renderProgress,
  type CanaryStatusView,
} from './canary-timeline.js';

const GROUPS = ['flagger.app/v1beta1', 'capstan.dev/v1alpha1'];
const VERBS = ['promote', 'abort', 'retry', 'pause', 'resume'] as const;

function parseCanaryRef(ref: string): { namespace: string; name: string } {
  const m = /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(ref);
  if (!m?.[1] || !m[2]) throw new UsageError(`expected <namespace>/<name>, got "${ref}"`);
  return { namespace: m[1], name: m[2] };
}

async function readCanary(kubeconfig: string | undefined, namespace: string, name: string) {
  const api = ObjectApi.fromKubeConfig(createKubeConfig(kubeconfig));
  for (const apiVersion of GROUPS) {
    try {
      const c = (await api.read({ apiVersion, kind: 'Canary', metadata: { name, namespace } })) as {
        status?: CanaryStatusView;
      };
      return { apiVersion, status: c.status ?? {} };
    } catch (e) {
      const code = (e as { code?: number }).code;
      if (code !== 404) throw e;
    }
  }
  throw new UsageError(`Canary ${namespace}/${name} not found (flagger.app or capstan.dev)`);
}

/** `capstan canary get|watch|explain|promote|abort|retry|pause|resume <namespace>/<name>`. */
export function registerCanary(
  cmd: Command,
  out: (s: string) => void,
  config: CliConfig,
  signal?: AbortSignal,
): void {
  const canary = cmd
    .command('canary')
    .description('progressive delivery: Canaries, their decisions, and people in the loop');
  const server = () => config.CAPSTAN_AUDIT_URL;

  canary
    .command('get')
    .description('phase, weight, checks and last verdict of a Canary')
    .argument('<canary>', '<namespace>/<name>')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (ref: string, opts: { output: string }) => {
      const { namespace, name } = parseCanaryRef(ref);
      const { status } = await readCanary(config.KUBECONFIG, namespace, name);
      out(
        opts.output === 'json' ? JSON.stringify(status, null, 2) : renderCanaryGet(namespace, name, status),
      );
    });

  canary
    .command('watch')
    .description('follow a rollout with a progress bar until it succeeds or fails')
    .argument('<canary>', '<namespace>/<name>')
    .option('--interval <ms>', 'poll interval', (v) => Number.parseInt(v, 10), 1000)
    .action(async (ref: string, opts: { interval: number }) => {
      const { namespace, name } = parseCanaryRef(ref);
      let last = '';
      for (;;) {
        const { status } = await readCanary(config.KUBECONFIG, namespace, name);
        const line = renderProgress(status);
        if (line !== last) out(line);
        last = line;
        if (status.phase === 'Succeeded' || status.phase === 'Failed' || signal?.aborted) return;
        await new Promise((r) => setTimeout(r, opts.interval));
      }
    });

  canary
    .command('explain')
    .description(
      'the rollout as a timeline: each step, metric values against thresholds, webhooks, who decided',
    )
    .argument('<canary>', '<namespace>/<name>')
    .option('--limit <n>', 'how many decisions', (v) => Number.parseInt(v, 10), 200)
    .action(async (ref: string, opts: { limit: number }) => {
      const { namespace, name } = parseCanaryRef(ref);
      const page = await new AuditClient(server(), config.CAPSTAN_TOKEN).decisions({
        canary: `${namespace}/${name}`,
        limit: String(opts.limit),
      });
      out(renderCanaryTimeline(namespace, name, page.items));
    });

  for (const verb of VERBS)
    canary
      .command(verb)
      .description(`${verb} a Canary's rollout (through the audit API; you are the decision's actor)`)
      .argument('<canary>', '<namespace>/<name>')
      .action(async (ref: string) => {
        const { namespace, name } = parseCanaryRef(ref);
        const { apiVersion } = await readCanary(config.KUBECONFIG, namespace, name).catch(() => ({
          apiVersion: GROUPS[0] ?? '',
        }));
        const group = apiVersion.split('/')[0] ?? 'flagger.app';
        const result = await postCommand(server(), config.CAPSTAN_TOKEN, namespace, name, verb, group);
        out(`${namespace}/${name}: ${verb} done, phase ${result.phase}: ${result.message}`);
      });
}

async function postCommand(
  base: string,
  token: string | undefined,
  namespace: string,
  name: string,
  verb: string,
  group: string,
) {
  const url = new URL(
    `/api/v1/canaries/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${verb}?group=${group}`,
    base,
  );
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (e) {
    throw new AuditApiError(0, `cannot reach the audit API at ${base}: ${(e as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try {
      const parsed = (JSON.parse(text) as { message?: unknown }).message;
      if (typeof parsed === 'string') message = parsed;
    } catch {
      // not JSON
    }
    throw new AuditApiError(res.status, `${res.status}: ${message}`);
  }
  return JSON.parse(text) as { phase: string; message: string };
}
