import { Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { DEPLOY_DECISION_RECORDED_V1, type DeployDecisionRecordedV1 } from '@capstan/events';
import {
  startBatchConsumer,
  type BatchItem,
  type Bus,
  type RetryPolicy,
  type RunningConsumer,
} from '@capstan/messaging';
import { StepHooks } from '@capstan/platform';
import { isDatabaseUnavailable } from './database-unavailable.js';
import type { DecisionIngest } from './decision-ingest.service.js';

export interface DecisionStreamOptions {
  /** The durable consumer every replica shares, so replicas split the stream. */
  durable: string;
  /** Decisions per transaction. */
  maxBatch?: number;
  /** How long a batch waits to fill once its first decision arrived. */
  maxWaitMs?: number;
  retry?: RetryPolicy;
  /** Where chaos tests stop it (audit.batch-committed: in Postgres, not acked). */
  hooks?: StepHooks;
}

/**
 * JetStream -> audit log, in batches: up to `maxBatch` decisions are chained and committed in one
 * transaction, then acked; the next batch is prepared meanwhile. While the database is unavailable
 * the batch is held and retried (never dead-lettered; /readyz reports the database meanwhile); a
 * batch that fails for another reason is retried decision by decision, so only a poison one is
 * retried and dead-lettered.
 */
export class DecisionStreamConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DecisionStreamConsumer.name);
  private running: RunningConsumer | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly ingest: DecisionIngest,
    private readonly options: DecisionStreamOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = await startBatchConsumer(this.bus, {
      durable: this.options.durable,
      family: 'decisions',
      maxBatch: this.options.maxBatch ?? 500,
      maxWaitMs: this.options.maxWaitMs ?? 5,
      ...(this.options.retry ? { retry: this.options.retry } : {}),
      isUnavailable: isDatabaseUnavailable,
      // Records, canonical content and row JSON for the next batch are built while the previous
      // batch is in Postgres: on two cores that overlap is most of the ingest rate's headroom.
      prepare: (items) => this.ingest.prepare(decisionsOf(items)),
      handleBatch: async (items, prepared) => {
        const batch = prepared ?? (await this.ingest.prepare(decisionsOf(items)));
        if (batch.length > 0) await this.ingest.ingestPrepared(batch);
        (this.options.hooks ?? StepHooks.none).step('audit.batch-committed', batch[0]?.record.eventId);
      },
      onUnavailable: (error, attempt) => {
        // Once at the start of an outage, then now and then: a log line per retry would flood.
        if (attempt === 1 || attempt % 20 === 0)
          this.logger.warn(`database unavailable (attempt ${attempt}), holding the batch: ${message(error)}`);
      },
      onRecovered: (attempts) => this.logger.log(`database back after ${attempts} failed attempts`),
      onError: (error, meta) =>
        this.logger.error(
          `decision ${meta.subject}#${meta.streamSeq} (delivery ${meta.deliveryCount}) failed: ${message(error)}`,
        ),
    });
  }

  async stop(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    await running?.stop();
  }
}

/** The family carries other event types too; they are not ours to record. */
const decisionsOf = (items: readonly BatchItem[]) =>
  items
    .map((i) => i.event)
    .filter((e): e is DeployDecisionRecordedV1 => e.type === DEPLOY_DECISION_RECORDED_V1);

const message = (e: unknown) =>
  (e instanceof Error ? e.message : String(e)).split('\n').join(' ').slice(0, 500);
