import type { CanaryModel } from '@capstan/canary-core';
import type { RolloutEvent } from '@capstan/events';
import type { Cluster } from '../kube/cluster.js';
import { alertPayload, alertUrl, wants, type ProviderType } from './alert-payloads.js';

interface AlertProviderObject {
  spec?: {
    type?: string;
    channel?: string;
    username?: string;
    address?: string;
    secretRef?: { name: string };
  };
}

const TYPES: readonly ProviderType[] = ['slack', 'discord', 'rocket', 'msteams', 'gchat', 'generic'];

/** Sends a Canary's `analysis.alerts` through their AlertProviders. */
export class Alerter {
  constructor(
    private readonly cluster: Cluster,
    private readonly http: typeof fetch = fetch,
  ) {}

  async notify(model: CanaryModel, e: RolloutEvent, message: string): Promise<void> {
    const severity = severityOf(e);
    if (!severity || model.alerts.length === 0 || mutedFailure(model, e)) return;
    for (const alert of model.alerts) {
      if (!wants(alert.severity, severity)) continue;
      const ref = alert.provider;
      const provider = await this.cluster.read<AlertProviderObject>(
        'flagger.app/v1beta1',
        'AlertProvider',
        ref.namespace,
        ref.name,
      );
      if (!provider?.spec)
        throw new Error(
          `AlertProvider ${ref.namespace}/${ref.name} not found (analysis.alerts ${alert.name})`,
        );
      const type = provider.spec.type as ProviderType;
      if (!TYPES.includes(type))
        throw new Error(
          `AlertProvider ${ref.namespace}/${ref.name}: spec.type "${provider.spec.type}" is not one of ${TYPES.join(', ')}`,
        );
      let address = provider.spec.address;
      if (provider.spec.secretRef) {
        const secret = await this.cluster.read<{ data?: Record<string, string> }>(
          'v1',
          'Secret',
          ref.namespace,
          provider.spec.secretRef.name,
        );
        const fromSecret = secret?.data?.['address'];
        if (fromSecret) address = Buffer.from(fromSecret, 'base64').toString('utf8');
      }
      if (!address)
        throw new Error(
          `AlertProvider ${ref.namespace}/${ref.name}: no address (spec.address or secretRef key "address")`,
        );
      const body = alertPayload(
        type,
        {
          canary: { namespace: model.namespace, name: model.name },
          severity,
          reason: e.type,
          message,
          phase: phaseOf(e),
          revision: 'revision' in e ? e.revision : '',
          canaryWeight: 'to' in e ? e.to : 'weight' in e ? e.weight : 0,
          failedChecks: e.type === 'CheckCompleted' ? e.failedChecks : 0,
          at: e.at,
        },
        { channel: provider.spec.channel ?? 'general', username: provider.spec.username ?? 'flagger' },
      );
      const res = await this.http(alertUrl(type, address), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5_000),
      });
      if (!res.ok)
        throw new Error(`AlertProvider ${ref.namespace}/${ref.name}: ${address} answered ${res.status}`);
    }
  }
}

/** Flagger's `muteAlert`: a check that failed only because of muted webhooks sends no alert. */
function mutedFailure(model: CanaryModel, e: RolloutEvent): boolean {
  if (e.type !== 'CheckCompleted' || e.verdict === 'Pass') return false;
  const failedHooks = e.hooks.filter((h) => !h.ok);
  const muted = (name: string) => model.webhooks.some((w) => w.name === name && w.muteAlert);
  return (
    e.metrics.every((m) => m.verdict === 'Pass') &&
    failedHooks.length > 0 &&
    failedHooks.every((h) => muted(h.name))
  );
}

function severityOf(e: RolloutEvent): 'info' | 'warn' | 'error' | undefined {
  switch (e.type) {
    case 'RolledBack':
      return 'error';
    case 'CheckCompleted':
      return e.verdict === 'Pass' ? undefined : 'error';
    case 'RolloutWaiting':
    case 'PromotionWaiting':
    case 'TrafficIncreaseHeld':
      return 'warn';
    case 'RolloutStarted':
    case 'Succeeded':
    case 'WeightChanged':
    case 'Initialized':
    case 'PromotionStarted':
      return 'info';
    case 'Terminated':
      return 'info';
    case 'PromotionStepped':
    case 'Finalising':
    case 'Paused':
    case 'Resumed':
    case 'TerminationStarted':
      return undefined;
  }
}

const PHASE_AFTER: Partial<Record<RolloutEvent['type'], string>> = {
  RolledBack: 'Failed',
  Succeeded: 'Succeeded',
  PromotionStarted: 'Promoting',
  Initialized: 'Initialized',
  Terminated: 'Terminated',
};

function phaseOf(e: RolloutEvent): string {
  return PHASE_AFTER[e.type] ?? 'Progressing';
}
