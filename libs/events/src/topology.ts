import type { CapstanEvent } from './catalog.js';

/**
 * Streams and subjects, derived from one prefix so a test (or a second Capstan in the same
 * NATS account) gets a private, isolated set. Production uses prefix `capstan`.
 */
export interface StreamSpec {
  name: string;
  subjects: string[];
  /** Keep messages this long (ns are computed by the messaging adapter). */
  maxAgeSeconds: number;
  /** JetStream drops a publish whose Nats-Msg-Id it has seen within this window. */
  duplicateWindowSeconds: number;
  /** Copies kept by a NATS cluster (1 on a single server; 3 survives the loss of one node). */
  replicas: number;
  description: string;
}

export interface Topology {
  prefix: string;
  streams: { events: StreamSpec; deadLetter: StreamSpec };
  subjectFor(event: CapstanEvent): string;
  /** Filter for one family of events, for consumers. */
  filter(family: EventFamily): string;
  deadLetterSubject(consumer: string): string;
  /**
   * Where the audit service republishes decisions as CDEvents: `<prefix>.cdevents.<type>`, the
   * type's dots kept as subject tokens so `<prefix>.cdevents.dev.cdevents.service.>` selects all.
   */
  cdeventSubject(type: string): string;
  /** Every CDEvent, for consumers. */
  cdeventsFilter: string;
  /** One Canary's rollout stream (its events in order), for replay and optimistic appends. */
  rolloutSubject(namespace: string, name: string): string;
}

export type EventFamily = 'git' | 'registry' | 'drift' | 'canary' | 'decisions';

const DAY = 24 * 3600;

export interface TopologyOptions {
  /** Stream replicas on a NATS cluster; at most the cluster's size. */
  replicas?: number;
}

export function topology(prefix = 'capstan', options: TopologyOptions = {}): Topology {
  const replicas = options.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5)
    throw new Error(`stream replicas ${String(options.replicas)} must be a whole number from 1 to 5`);
  if (!/^[a-z][a-z0-9_-]*$/.test(prefix))
    throw new Error(`topology prefix "${prefix}" must match [a-z][a-z0-9_-]*`);
  const stream = prefix.toUpperCase().replaceAll('-', '_');
  const subject = (family: EventFamily, ...rest: string[]) => [prefix, family, ...rest.map(token)].join('.');
  return {
    prefix,
    streams: {
      events: {
        name: `${stream}_EVENTS`,
        subjects: (['git', 'registry', 'drift', 'canary', 'decisions'] as const)
          .map((f) => `${prefix}.${f}.>`)
          .concat(`${prefix}.cdevents.>`),
        maxAgeSeconds: 30 * DAY,
        duplicateWindowSeconds: 2 * 3600,
        replicas,
        description: 'Capstan platform events (CloudEvents 1.0, JSON)',
      },
      deadLetter: {
        name: `${stream}_DLQ`,
        subjects: [`${prefix}.dlq.>`],
        maxAgeSeconds: 90 * DAY,
        duplicateWindowSeconds: 2 * 3600,
        replicas,
        description: 'Messages a consumer gave up on, with the reason in headers',
      },
    },
    subjectFor(event) {
      // Subject tokens carry the ordering key: JetStream consumers filtered per key see that key in order.
      switch (event.type) {
        case 'dev.capstan.git.commit.observed.v1':
          return subject('git', 'commit', event.data.repository.namespace, event.data.repository.name);
        case 'dev.capstan.registry.image.pushed.v1':
          return subject('registry', 'pushed', event.data.registry, event.data.repository);
        case 'dev.capstan.reconcile.drift.detected.v1':
          return subject('drift', event.data.sync.namespace, event.data.sync.name);
        case 'dev.capstan.canary.metric.sampled.v2':
          return subject('canary', 'sample', event.data.canary.namespace, event.data.canary.name);
        case 'dev.capstan.canary.rollout.recorded.v1':
          return subject('canary', 'rollout', event.data.canary.namespace, event.data.canary.name);
        case 'dev.capstan.deploy.decision.recorded.v1':
          return subject(
            'decisions',
            event.data.decidedBy.kind,
            event.data.decidedBy.namespace,
            event.data.decidedBy.name,
          );
      }
    },
    filter: (family) => `${prefix}.${family}.>`,
    deadLetterSubject: (consumer) => `${prefix}.dlq.${token(consumer)}`,
    cdeventSubject: (type) => [prefix, 'cdevents', ...type.split('.').map(token)].join('.'),
    cdeventsFilter: `${prefix}.cdevents.>`,
    rolloutSubject: (namespace, name) => subject('canary', 'rollout', namespace, name),
  };
}

/** NATS subject tokens cannot hold `.`, `*`, `>` or whitespace; names in Kubernetes can hold dots. */
export function token(value: string): string {
  const t = value.replace(/[.*>\s]/g, '_');
  return t === '' ? '_' : t;
}
