import type { CapstanResources } from '@capstan/kube';
import { RECONCILE_REQUESTED_AT } from '@capstan/gitops-core';
import { UsageError } from '../object-ref.js';

/** A failure of a command against the cluster, with the exit code it maps to. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** `sync/<name>` (also `syncs/<name>`, `Sync/<name>`). */
export function parseSyncRef(ref: string): string {
  const m = /^(?:sync|syncs|Sync)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(ref);
  if (!m?.[1]) throw new UsageError(`expected sync/<name>, got "${ref}"`);
  return m[1];
}

export interface ReconcileRequest {
  namespace: string;
  name: string;
  wait: boolean;
  timeoutMs: number;
  now: Date;
  pollMs?: number;
}

/**
 * Asks the reconciler to reconcile a Sync now (Flux's `flux reconcile`): sets the request
 * annotation to a fresh timestamp and, with --wait, waits until status says it handled that
 * very request, then reports Ready.
 */
export async function requestReconcile(
  resources: CapstanResources,
  req: ReconcileRequest,
  out: (s: string) => void,
): Promise<number> {
  const at = req.now.toISOString();
  const ref = `${req.namespace}/${req.name}`;
  await resources.get('Sync', req.namespace, req.name).catch((e: unknown) => {
    throw new CommandError(`Sync ${ref}: ${e instanceof Error ? e.message : String(e)}`, 3);
  });
  await resources.annotate('Sync', req.namespace, req.name, { [RECONCILE_REQUESTED_AT]: at });
  out(`► reconcile requested for Sync ${ref} at ${at}`);
  if (!req.wait) return 0;
  const deadline = Date.now() + req.timeoutMs;
  for (;;) {
    const sync = await resources.get('Sync', req.namespace, req.name);
    if (sync.status?.lastHandledReconcileAt === at) {
      const ready = sync.status.conditions?.find((c) => c.type === 'Ready');
      if (ready?.status === 'True') {
        out(`✔ Sync ${ref} reconciled: ${ready.message}`);
        return 0;
      }
      out(`✗ Sync ${ref} not ready: ${ready?.reason ?? 'Unknown'}: ${ready?.message ?? ''}`);
      return 1;
    }
    if (Date.now() > deadline)
      throw new CommandError(
        `timed out after ${req.timeoutMs} ms waiting for Sync ${ref} to handle the request`,
        3,
      );
    await new Promise((r) => setTimeout(r, req.pollMs ?? 250));
  }
}
