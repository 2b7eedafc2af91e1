import { headers } from '@nats-io/nats-core';
import { DeliverPolicy, JetStreamApiError } from '@nats-io/jetstream';
import {
  CANARY_ROLLOUT_RECORDED_V1,
  decodeEvent,
  encodeEvent,
  stableId,
  type CanaryRolloutRecordedV1,
  type RolloutEvent,
} from '@capstan/events';
import type { Bus } from '@capstan/messaging';

export interface CanaryKey {
  namespace: string;
  name: string;
  uid: string;
}

export interface StoredStep {
  step: number;
  events: RolloutEvent[];
}

export interface History {
  steps: StoredStep[];
  /** Stream sequence of the subject's last message: the expectation of the next append. */
  lastSubjectSeq: number;
}

/** Another writer appended first: the caller reloads and decides again. */
export class ConcurrentAppendError extends Error {
  constructor(readonly key: CanaryKey) {
    super(`Canary ${key.namespace}/${key.name}: another writer appended to the rollout stream first`);
    this.name = 'ConcurrentAppendError';
  }
}

/**
 * The rollout's event store: one JetStream subject per Canary. Appends carry
 * `Nats-Expected-Last-Subject-Sequence`, so of two writers that decided from the same history
 * only one lands: that, not a lock, is what keeps a step from being taken twice.
 */
export class RolloutStore {
  constructor(
    private readonly bus: Bus,
    private readonly source = '/capstan/canary-analyzer',
  ) {}

  private subject(key: CanaryKey): string {
    return this.bus.topology.rolloutSubject(key.namespace, key.name);
  }

  async load(key: CanaryKey): Promise<History> {
    const stream = this.bus.topology.streams.events.name;
    const subject = this.subject(key);
    const last = await this.bus.jsm.streams.getMessage(stream, { last_by_subj: subject });
    if (!last) return { steps: [], lastSubjectSeq: 0 };
    const lastSeq = last.seq;
    const consumer = await this.bus.js.consumers.get(stream, {
      // One subject as a string: nats-server 2.9 knows filter_subject, not the 2.10 list.
      filter_subjects: subject,
      deliver_policy: DeliverPolicy.All,
    });
    const steps: StoredStep[] = [];
    const messages = await consumer.consume();
    try {
      for await (const m of messages) {
        const event = decodeEvent(m.data);
        if (event.type === CANARY_ROLLOUT_RECORDED_V1 && event.data.uid === key.uid)
          steps.push({ step: event.data.step, events: event.data.events });
        if (m.seq >= lastSeq) break;
      }
    } finally {
      await messages.close();
    }
    return { steps, lastSubjectSeq: lastSeq };
  }

  /** Appends one step; returns the new last subject sequence. */
  async append(
    key: CanaryKey,
    step: number,
    events: RolloutEvent[],
    expectedLastSubjectSeq: number,
    at: string,
  ): Promise<number> {
    const event: CanaryRolloutRecordedV1 = {
      specversion: '1.0',
      id: stableId('rollout', key.uid, String(step)),
      source: this.source,
      type: CANARY_ROLLOUT_RECORDED_V1,
      subject: `Canary/${key.namespace}/${key.name}`,
      time: at,
      datacontenttype: 'application/json',
      correlationid: key.uid,
      data: {
        canary: { kind: 'Canary', namespace: key.namespace, name: key.name },
        uid: key.uid,
        step,
        events,
      },
    };
    const h = headers();
    h.set('Content-Type', 'application/cloudevents+json');
    h.set('ce-type', event.type);
    try {
      const ack = await this.bus.js.publish(this.subject(key), encodeEvent(event), {
        msgID: event.id,
        headers: h,
        expect: { lastSubjectSequence: expectedLastSubjectSeq },
      });
      // A duplicate is this step's id already in the stream: another writer's step (same id,
      // perhaps other events) or ours from a retry after a lost ack. Either way only the stream
      // knows what was recorded: the caller reloads it rather than trust its own events.
      if (ack.duplicate) throw new ConcurrentAppendError(key);
      return ack.seq;
    } catch (e) {
      if (e instanceof JetStreamApiError && e.code === 10071) throw new ConcurrentAppendError(key);
      throw e;
    }
  }
}
