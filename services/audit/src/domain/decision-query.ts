/** Filters of the decision list; every one is optional and they combine with AND. */
export interface DecisionFilter {
  namespace?: string;
  kind?: string;
  name?: string;
  /** A Flux-style revision (`main@sha1:...`) or a commit sha. */
  revision?: string;
  /** The primary actor's name, or their email (case-insensitive). */
  actor?: string;
  action?: string;
  /** Inclusive. */
  since?: Date;
  /** Exclusive. */
  until?: Date;
  /** Decisions made by this Sync. */
  sync?: DeciderKey;
  /** Decisions made by this Canary. */
  canary?: DeciderKey;
  correlationId?: string;
  /** Decisions about this image: its repository (`ghcr.io/org/app`), and the tag when given. */
  image?: ImageKey;
}

export interface ImageKey {
  repository: string;
  tag?: string;
}

export interface DeciderKey {
  namespace: string;
  name: string;
}

export interface Page {
  /** Only items with a smaller seq (older). */
  beforeSeq?: bigint;
  limit: number;
}

export interface ObjectRefKey {
  /** Empty for cluster-scoped objects. */
  namespace: string;
  kind: string;
  name: string;
}
