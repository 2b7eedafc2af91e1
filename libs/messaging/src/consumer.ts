import { headers } from '@nats-io/nats-core';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { decodeEvent, EventValidationError, type CapstanEvent, type EventFamily } from '@capstan/events';
import type { Bus } from './bus.js';
import { defaultRetryPolicy, onHandlerFailure, type RetryPolicy } from './retry-policy.js';

export interface MessageMeta {
  subject: string;
  streamSeq: number;
  deliveryCount: number;
  redelivered: boolean;
  /** Tell JetStream we are still working, so a slow handler is not redelivered. */
  working(): void;
}

export type EventHandler = (event: CapstanEvent, meta: MessageMeta) => Promise<void>;

export interface ConsumeOptions {
  /** Durable name shared by every replica of a service: replicas split the work. */
  durable: string;
  family: EventFamily;
  handler: EventHandler;
  retry?: RetryPolicy;
  ackWaitMs?: number;
  /** Messages handled at once; messages with the same subject (ordering key) never overlap. */
  concurrency?: number;
  onError?: (error: unknown, meta: MessageMeta) => void;
}

export interface RunningConsumer {
  stop(): Promise<void>;
}

export const DLQ_HEADERS = {
  reason: 'Capstan-Dlq-Reason',
  subject: 'Capstan-Dlq-Subject',
  streamSeq: 'Capstan-Dlq-Stream-Seq',
  deliveries: 'Capstan-Dlq-Deliveries',
  consumer: 'Capstan-Dlq-Consumer',
} as const;

/**
 * Runs a durable pull consumer: explicit ack, bounded redelivery with backoff, and a
 * dead-letter subject after the last try. A message that is not a valid event goes to the
 * dead-letter subject at once with the reason; it never reaches the handler or stops the loop.
 */
export async function startConsumer(bus: Bus, options: ConsumeOptions): Promise<RunningConsumer> {
  const retry = options.retry ?? defaultRetryPolicy;
  const ackWaitMs = options.ackWaitMs ?? 30_000;
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const consumer = await bus.ensureConsumer(options.durable, options.family, {
    ackWaitMs,
    maxDeliver: retry.maxDeliver,
  });
  const messages: ConsumerMessages = await consumer.consume({ max_messages: Math.max(16, concurrency * 4) });
  const tails = new Map<string, Promise<void>>();
  const inFlight = new Set<Promise<void>>();

  const deadLetter = async (msg: JsMsg, reason: string) => {
    const h = headers();
    h.set(DLQ_HEADERS.reason, reason.slice(0, 4_000));
    h.set(DLQ_HEADERS.subject, msg.subject);
    h.set(DLQ_HEADERS.streamSeq, String(msg.seq));
    h.set(DLQ_HEADERS.deliveries, String(msg.info.deliveryCount));
    h.set(DLQ_HEADERS.consumer, options.durable);
    const id = `${options.durable}:${msg.info.stream}:${msg.seq}`;
    await bus.js.publish(bus.topology.deadLetterSubject(options.durable), msg.data, {
      msgID: id,
      headers: h,
    });
    msg.term(reason.slice(0, 200));
  };

  const handle = async (msg: JsMsg) => {
    const meta: MessageMeta = {
      subject: msg.subject,
      streamSeq: msg.seq,
      deliveryCount: msg.info.deliveryCount,
      redelivered: msg.redelivered,
      working: () => msg.working(),
    };
    let event: CapstanEvent;
    try {
      event = decodeEvent(msg.data);
    } catch (e) {
      const reason = e instanceof EventValidationError ? e.message : String(e);
      await deadLetter(msg, reason);
      options.onError?.(e, meta);
      return;
    }
    try {
      await options.handler(event, meta);
      await msg.ackAck();
    } catch (e) {
      options.onError?.(e, meta);
      const step = onHandlerFailure(retry, msg.info.deliveryCount);
      switch (step.kind) {
        case 'retry':
          msg.nak(step.delayMs);
          return;
        case 'dead-letter':
          await deadLetter(msg, e instanceof Error ? e.message : String(e));
          return;
      }
    }
  };

  const loop = (async () => {
    for await (const msg of messages) {
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      // Chain behind the previous message of the same subject to keep per-key order.
      const key = msg.subject;
      const previous = tails.get(key) ?? Promise.resolve();
      const run = previous
        .then(() => handle(msg))
        .catch((e: unknown) => {
          options.onError?.(e, {
            subject: key,
            streamSeq: msg.seq,
            deliveryCount: 0,
            redelivered: false,
            working: () => undefined,
          });
        });
      tails.set(key, run);
      inFlight.add(run);
      void run.finally(() => {
        inFlight.delete(run);
        if (tails.get(key) === run) tails.delete(key);
      });
    }
  })();

  return {
    async stop() {
      await messages.close();
      await loop;
      await Promise.allSettled(inFlight);
    },
  };
}
