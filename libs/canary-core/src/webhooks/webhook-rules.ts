import type { WebhookModel, WebhookType } from '../spec.js';

/** What a webhook answered (or that it did not), as recorded in the decision. */
export interface HookResult {
  name: string;
  type: WebhookType;
  url: string;
  /** HTTP status; absent when the call failed before an answer (timeout, refused). */
  status?: number;
  /** Flagger's rule: a webhook succeeds iff it answers with a status <= 202. */
  ok: boolean;
  /** The answer's body (shortened) or the transport error. */
  message: string;
  attempts: number;
}

export function isWebhookSuccess(status: number): boolean {
  return status <= 202;
}

export function hooksOfType(hooks: readonly WebhookModel[], type: WebhookType): WebhookModel[] {
  return hooks.filter((h) => h.type === type);
}

/** The body Flagger POSTs to every webhook. */
export interface WebhookPayload {
  name: string;
  namespace: string;
  phase: string;
  checksum: string;
  metadata: Record<string, string>;
}

export function webhookPayload(
  canary: { name: string; namespace: string },
  phase: string,
  checksum: string,
  hook: WebhookModel,
  event?: { message: string; type: 'Normal' | 'Warning'; atMs: number },
): WebhookPayload {
  const metadata = { ...hook.metadata };
  if (hook.type === 'event' && event) {
    metadata['eventMessage'] = event.message;
    metadata['eventType'] = event.type;
    metadata['timestamp'] = String(event.atMs);
  }
  return { name: canary.name, namespace: canary.namespace, phase, checksum, metadata };
}

/**
 * How a set of webhook results of one type gates the rollout:
 * - gates (`confirm-*`) hold the rollout without counting a failed check;
 * - checks (`pre-rollout`, `rollout`) count a failed check when any fails;
 * - `rollback` is inverted: any success asks for a rollback;
 * - `post-rollout` and `event` only inform.
 */
export type HookGate = 'proceed' | 'hold' | 'failed-check' | 'rollback';

export function gateOf(type: WebhookType, results: readonly HookResult[]): HookGate {
  const anyFailed = results.some((r) => !r.ok);
  switch (type) {
    case 'confirm-rollout':
    case 'confirm-traffic-increase':
    case 'confirm-promotion':
      return anyFailed ? 'hold' : 'proceed';
    case 'pre-rollout':
    case 'rollout':
      return anyFailed ? 'failed-check' : 'proceed';
    case 'rollback':
      return results.some((r) => r.ok) ? 'rollback' : 'proceed';
    case 'post-rollout':
    case 'event':
      return 'proceed';
  }
}
