import { randomUUID } from 'node:crypto';

/** Where the reconciler's fresh ids come from; injected so the logic never draws them itself. */
export interface IdSource {
  /** Ties a reconcile's decisions (applied, pruned) together in the audit timeline. */
  correlationId(): string;
}

export const ID_SOURCE = Symbol('IdSource');

export const randomIds: IdSource = { correlationId: () => randomUUID() };
