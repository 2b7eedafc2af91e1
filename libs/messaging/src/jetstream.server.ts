import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import type { EventFamily } from '@capstan/events';
import type { Bus } from './bus.js';
import { describeError } from './describe-error.js';
import { startConsumer, type RunningConsumer } from './consumer.js';
import { JetStreamContext } from './jetstream.context.js';
import type { RetryPolicy } from './retry-policy.js';

export const JETSTREAM_TRANSPORT = Symbol('JetStream');

export interface JetStreamServerOptions {
  bus: Bus;
  durable: string;
  families: EventFamily[];
  retry?: RetryPolicy;
  concurrency?: number;
  ackWaitMs?: number;
  /** Each replica its own consumer (see ConsumeOptions.ownReplica). */
  ownReplica?: { inactiveThresholdMs: number };
}

/**
 * Nest's built-in NATS transport speaks core NATS only; this one runs JetStream durable pull
 * consumers and routes each event to the `@EventPattern(<event type>)` handler. A handler that
 * throws is retried with backoff, then dead-lettered (see startConsumer).
 */
export class JetStreamServer extends Server implements CustomTransportStrategy {
  override readonly transportId = JETSTREAM_TRANSPORT;
  // Without this Nest swallows handler errors for events, and we would ack a failed message.
  override readonly propagatesEventHandlerErrors = true;
  private running: RunningConsumer[] = [];

  constructor(private readonly options: JetStreamServerOptions) {
    super();
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    void this.start().then(
      () => callback(),
      (e: unknown) => callback(e),
    );
  }

  private async start(): Promise<void> {
    for (const family of this.options.families) {
      this.running.push(
        await startConsumer(this.options.bus, {
          durable: this.options.durable,
          family,
          ...(this.options.retry ? { retry: this.options.retry } : {}),
          ...(this.options.concurrency ? { concurrency: this.options.concurrency } : {}),
          ...(this.options.ackWaitMs ? { ackWaitMs: this.options.ackWaitMs } : {}),
          ...(this.options.ownReplica ? { ownReplica: this.options.ownReplica } : {}),
          handler: async (event, meta) => {
            const handler = this.getHandlerByPattern(event.type);
            // An event nobody here handles is not an error: the family carries several types.
            if (!handler) return;
            const result: unknown = await handler(event, new JetStreamContext([meta]));
            if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
          },
          onError: (error, meta) => {
            this.logger.error(
              `handling ${meta.subject}#${meta.streamSeq} (delivery ${meta.deliveryCount}) failed: ${describeError(error)}`,
            );
          },
        }),
      );
    }
  }

  async close(): Promise<void> {
    const running = this.running;
    this.running = [];
    await Promise.all(running.map((r) => r.stop()));
  }

  on(): never {
    throw new Error('JetStreamServer does not emit events');
  }

  // The signature is Nest's (Server.unwrap<T>); callers name the type they expect.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  unwrap<T = Bus>(): T {
    return this.options.bus as unknown as T;
  }
}
