/**
 * A recorded decision as the audit log keeps it: flat, normalized (absent is `null`, never
 * `undefined`), and exactly what the hash chain covers. Built from an event by `toDecisionRecord`
 * and rebuilt from a database row by the repository; both must produce the same value.
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface Person {
  name: string;
  email: string;
}

export interface DecisionActor {
  kind: string;
  name: string;
  email: string | null;
  evidence: string;
}

export interface DecisionSource {
  repository: string;
  url: string;
  ref: string;
  revision: string;
  sha: string;
  commitMessage: string;
  parents: string[];
  author: Person;
  committer: Person;
}

export interface DecisionTargetRecord {
  apiVersion: string;
  kind: string;
  /** Empty for cluster-scoped objects. */
  namespace: string;
  name: string;
  /** The object's own change-set action; null when it was a target without a change-set line. */
  action: string | null;
}

export interface DecisionRecord {
  id: string;
  eventId: string;
  eventSource: string;
  time: Date;
  recordedAt: Date;
  action: string;
  outcome: string;
  reason: string;
  message: string;
  actor: DecisionActor;
  actors: JsonValue[];
  source: DecisionSource | null;
  image: JsonValue;
  cluster: string;
  decidedBy: { kind: string; namespace: string; name: string };
  targets: DecisionTargetRecord[];
  changeSet: JsonValue[];
  evidence: { [key: string]: JsonValue };
  correlationId: string | null;
  traceparent: string | null;
}

/** A record once it is in the log. `seq` is the chain order; the database assigns it. */
export interface ChainedDecision extends DecisionRecord {
  seq: bigint;
  prevHash: string;
  hash: string;
}
