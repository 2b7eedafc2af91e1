import { headers } from '@nats-io/nats-core';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { decodeEvent, type CapstanEvent, type EventFamily } from '@capstan/events';
import type { Bus } from './bus.js';
import { defaultRetryPolicy, onHandlerFailure, type RetryPolicy } from './retry-policy.js';
import { describeError } from './describe-error.js';

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
  /**
   * A consumer of one replica's own (every replica sees every message, e.g. the reconciler's
   * commits, each for the Syncs it owns): it starts at new messages and the server removes it
   * once no replica has pulled from it for this long.
   */
  ownReplica?: { inactiveThresholdMs: number };
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
    ...(options.ownReplica ? { ownReplica: options.ownReplica } : {}),
  });
  const messages: ConsumerMessages = await consumer.consume({ max_messages: Math.max(16, concurrency * 4) });
  const tails = new Map<string, Promise<void>>();
  const inFlight = new Set<Promise<void>>();

  const deadLetter = (msg: JsMsg, reason: string) => publishDeadLetter(bus, options.durable, msg, reason);

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
      const reason = describeError(e);
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
          await deadLetter(msg, describeError(e));
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

// --- batch consumption ---

export interface BatchItem {
  event: CapstanEvent;
  meta: MessageMeta;
}

export interface BatchConsumeOptions<P = undefined> {
  /** Durable name shared by every replica of a service: replicas split the work. */
  durable: string;
  family: EventFamily;
  /**
   * All or nothing: resolves once every item's effect is durable, and then all are acked. When it
   * throws (and the error is not `isUnavailable`), each item is retried alone, so one bad message
   * is retried and dead-lettered by itself and never holds the others back. `prepared` is what
   * `prepare` returned for exactly these items (undefined without `prepare`).
   */
  handleBatch: (items: BatchItem[], prepared: P | undefined) => Promise<void>;
  /**
   * Work on a batch that does not depend on the batches before it (building records, serializing).
   * It runs for the next batch while the previous one is still in `handleBatch`, so this CPU work
   * overlaps the previous batch's I/O instead of adding to it; to overlap more than the first
   * round trip, it should yield to the event loop now and then (hence the promise). Failing here
   * fails the batch as `handleBatch` throwing would (then each item is prepared and handled alone).
   */
  prepare?: (items: BatchItem[]) => P | Promise<P>;
  /** Most messages per batch. */
  maxBatch?: number;
  /** After the first message arrives, how long to wait for more before handling what is there. */
  maxWaitMs?: number;
  /**
   * Errors that say a dependency is down (the database unreachable), not that a message is bad.
   * Such a batch is held: not acked, not nakked, never dead-lettered, kept alive with in-progress
   * acks (so its delivery count does not grow) and retried with `unavailableBackoffMs` until it
   * goes through or the consumer stops. Holding the batch also stops this replica from pulling more.
   */
  isUnavailable?: (error: unknown) => boolean;
  /** Delays between attempts while unavailable; the last one repeats. */
  unavailableBackoffMs?: number[];
  retry?: RetryPolicy;
  ackWaitMs?: number;
  onError?: (error: unknown, meta: MessageMeta) => void;
  /** Each failed attempt while a dependency is unavailable (attempt counts from 1). */
  onUnavailable?: (error: unknown, attempt: number) => void;
  /** Once a held batch went through after `attempts` unavailable tries. */
  onRecovered?: (attempts: number) => void;
}

export const defaultUnavailableBackoffMs = [100, 250, 500, 1_000, 2_000, 5_000];

/** Messages decoded between two turns of the event loop while a batch is taken. */
const YIELD_EVERY = 50;
/** Lets pending I/O callbacks run (setImmediate runs after them, unlike a resolved promise). */
export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

type Attempt = { kind: 'ok' } | { kind: 'failed'; error: unknown } | { kind: 'stopped' };

/** A batch taken from the stream: decoded, prepared, and kept alive until it is handled. */
interface TakenBatch<P> {
  msgs: JsMsg[];
  items: { msg: JsMsg; item: BatchItem }[];
  invalid: { msg: JsMsg; meta: MessageMeta; error: unknown }[];
  prepared: { ok: true; value: P | undefined } | { ok: false; error: unknown };
  keepAlive: NodeJS.Timeout;
  /** `outages` when it was prepared: if a dependency was down since, the preparation is stale. */
  outagesSeen: number;
}

/**
 * Like startConsumer, but hands the handler up to `maxBatch` messages at once (whatever arrived
 * within `maxWaitMs` of the first), so a writer can commit them in one transaction. Batches are
 * handled one after another, in stream order; acks go out after the batch's handler resolved.
 * While one batch is handled the next one is already taken, decoded and prepared (a pipeline one
 * batch deep), so a replica holds at most two batches.
 */
export async function startBatchConsumer<P = undefined>(
  bus: Bus,
  options: BatchConsumeOptions<P>,
): Promise<RunningConsumer> {
  const retry = options.retry ?? defaultRetryPolicy;
  const ackWaitMs = options.ackWaitMs ?? 30_000;
  const maxBatch = Math.max(1, options.maxBatch ?? 200);
  const maxWaitMs = Math.max(0, options.maxWaitMs ?? 5);
  const backoff = options.unavailableBackoffMs ?? defaultUnavailableBackoffMs;
  const isUnavailable = options.isUnavailable ?? (() => false);
  // Unacked at once: the batch being written, the one prepared meanwhile, and the next arriving.
  // With room for two only, the third could not start arriving until the first was acked, and
  // the reader would cut it short at maxWaitMs.
  const inFlight = maxBatch * 3;
  const consumer = await bus.ensureConsumer(options.durable, options.family, {
    ackWaitMs,
    maxDeliver: retry.maxDeliver,
    maxAckPending: Math.max(1_000, inFlight),
  });
  // More would only wait out its ack deadline.
  const messages: ConsumerMessages = await consumer.consume({ max_messages: inFlight });
  const reader = new BatchReader(messages[Symbol.asyncIterator]());
  let stopping = false;
  // Failed attempts on an unavailable dependency so far. Work prepared before one of them is
  // redone: a batch held through an outage must not carry the time it was prepared as its own.
  let outages = 0;
  // A function, not the variable: stop() flips it while we await, which flow analysis cannot see.
  const isStopping = () => stopping;
  let wake: (() => void) | undefined;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  const metaOf = (msg: JsMsg): MessageMeta => ({
    subject: msg.subject,
    streamSeq: msg.seq,
    deliveryCount: msg.info.deliveryCount,
    redelivered: msg.redelivered,
    working: () => msg.working(),
  });

  const deadLetter = (msg: JsMsg, error: string) => publishDeadLetter(bus, options.durable, msg, error);

  /** Runs `fn`, holding on through unavailability; only a real failure or a stop ends it otherwise. */
  const attempt = async (fn: () => Promise<void>): Promise<Attempt> => {
    for (let n = 1; ; n++) {
      try {
        await fn();
        if (n > 1) options.onRecovered?.(n - 1);
        return { kind: 'ok' };
      } catch (e) {
        if (!isUnavailable(e)) return { kind: 'failed', error: e };
        outages++;
        options.onUnavailable?.(e, n);
        if (isStopping()) return { kind: 'stopped' };
        await pause(backoff[Math.min(n - 1, backoff.length - 1)] ?? 1_000);
        if (isStopping()) return { kind: 'stopped' };
      }
    }
  };

  const ackAll = async (msgs: JsMsg[]) => {
    for (const m of msgs) m.ack();
    // One round trip for the whole batch; a lost ack only means a harmless redelivery.
    await bus.nc.flush();
  };
  // Stopping mid-outage: hand the messages back (soon redelivered, to us or another replica).
  const handBack = (msgs: JsMsg[]) => {
    for (const m of msgs) m.nak(1_000);
  };

  /** The next batch, decoded and prepared; undefined once the stream is closed. */
  const take = async (): Promise<TakenBatch<P> | undefined> => {
    const msgs = await reader.take(maxBatch, maxWaitMs);
    if (msgs.length === 0) return undefined;
    // Messages we hold must not reach their ack deadline however long the batch waits and takes.
    const keepAlive = setInterval(
      () => {
        for (const m of msgs) m.working();
      },
      Math.max(1_000, Math.floor(ackWaitMs / 3)),
    );
    const items: TakenBatch<P>['items'] = [];
    const invalid: TakenBatch<P>['invalid'] = [];
    for (const [index, msg] of msgs.entries()) {
      // Decoding is CPU too: let the batch being handled take its turns meanwhile.
      if (index > 0 && index % YIELD_EVERY === 0) await yieldToEventLoop();
      const meta = metaOf(msg);
      try {
        items.push({ msg, item: { event: decodeEvent(msg.data), meta } });
      } catch (error) {
        invalid.push({ msg, meta, error });
      }
    }
    let prepared: TakenBatch<P>['prepared'];
    try {
      prepared = {
        ok: true,
        value: items.length > 0 ? await options.prepare?.(items.map((i) => i.item)) : undefined,
      };
    } catch (error) {
      prepared = { ok: false, error };
    }
    return { msgs, items, invalid, prepared, keepAlive, outagesSeen: outages };
  };

  const processBatch = async ({ items, invalid, prepared, outagesSeen }: TakenBatch<P>) => {
    for (const { msg, meta, error } of invalid) {
      await deadLetter(msg, describeError(error));
      options.onError?.(error, meta);
    }
    if (items.length === 0) return;
    // A batch that could not be prepared goes straight to one at a time.
    if (prepared.ok) {
      const batch = items.map((i) => i.item);
      const whole = await attempt(async () =>
        options.handleBatch(batch, outages === outagesSeen ? prepared.value : await options.prepare?.(batch)),
      );
      if (whole.kind === 'ok') return ackAll(items.map((i) => i.msg));
      if (whole.kind === 'stopped') return handBack(items.map((i) => i.msg));
    }

    // Someone in the batch is bad (or the batch as a whole is): find out who, one at a time.
    for (const [index, { msg, item }] of items.entries()) {
      const one = await attempt(async () => options.handleBatch([item], await options.prepare?.([item])));
      switch (one.kind) {
        case 'ok':
          await ackAll([msg]);
          break;
        case 'stopped':
          handBack(items.slice(index).map((i) => i.msg));
          return;
        case 'failed': {
          options.onError?.(one.error, item.meta);
          const step = onHandlerFailure(retry, msg.info.deliveryCount);
          switch (step.kind) {
            case 'retry':
              msg.nak(step.delayMs);
              break;
            case 'dead-letter':
              await deadLetter(msg, describeError(one.error));
              break;
          }
        }
      }
    }
  };

  const loop = (async () => {
    let next = take();
    for (;;) {
      const batch = await next;
      if (!batch) return;
      // Take and prepare the following batch while this one is handled (awaited next round; the
      // no-op catch only keeps a failure meanwhile from counting as unhandled).
      next = take();
      next.catch(() => undefined);
      try {
        await processBatch(batch);
      } catch (e) {
        // Acking or dead-lettering itself failed (NATS trouble): the messages come back after ack wait.
        const first = batch.msgs[0];
        if (first) options.onError?.(e, metaOf(first));
      } finally {
        clearInterval(batch.keepAlive);
      }
    }
  })();

  return {
    async stop() {
      stopping = true;
      wake?.();
      await messages.close();
      await loop;
    },
  };
}

/**
 * Turns the message iterator into batches: waits as long as needed for the first message, then at
 * most `maxWaitMs` for the rest. A `next()` still pending at the deadline carries over.
 */
class BatchReader {
  private pending: Promise<IteratorResult<JsMsg>> | undefined;
  private done = false;

  constructor(private readonly iterator: AsyncIterator<JsMsg>) {}

  async take(max: number, maxWaitMs: number): Promise<JsMsg[]> {
    const batch: JsMsg[] = [];
    if (this.done) return batch;
    const first = await this.next();
    if (first.done) return batch;
    batch.push(first.value);
    const deadline = Date.now() + maxWaitMs;
    while (batch.length < max) {
      const left = deadline - Date.now();
      const r = await this.nextWithin(Math.max(0, left));
      if (r === 'timeout' || r.done) break;
      batch.push(r.value);
    }
    return batch;
  }

  private async next(): Promise<IteratorResult<JsMsg>> {
    const p = this.pending ?? this.iterator.next();
    this.pending = undefined;
    const r = await p;
    if (r.done) this.done = true;
    return r;
  }

  private async nextWithin(ms: number): Promise<IteratorResult<JsMsg> | 'timeout'> {
    this.pending ??= this.iterator.next();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
    try {
      const r = await Promise.race([this.pending, timeout]);
      if (r === 'timeout') return r;
      this.pending = undefined;
      if (r.done) this.done = true;
      return r;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Parks a message on the consumer's dead-letter subject with the reason in headers, then
 * terminates it. The id is the stream position, so a retried dead-lettering is a duplicate.
 */
async function publishDeadLetter(bus: Bus, durable: string, msg: JsMsg, error: string): Promise<void> {
  // Header values cannot hold line breaks, and driver errors (Prisma's) are multi-line.
  const reason = error.replace(/[\r\n]+/g, ' ').trim();
  const h = headers();
  h.set(DLQ_HEADERS.reason, reason.slice(0, 4_000));
  h.set(DLQ_HEADERS.subject, msg.subject);
  h.set(DLQ_HEADERS.streamSeq, String(msg.seq));
  h.set(DLQ_HEADERS.deliveries, String(msg.info.deliveryCount));
  h.set(DLQ_HEADERS.consumer, durable);
  await bus.js.publish(bus.topology.deadLetterSubject(durable), msg.data, {
    msgID: `${durable}:${msg.info.stream}:${msg.seq}`,
    headers: h,
  });
  msg.term(reason.slice(0, 200));
}
