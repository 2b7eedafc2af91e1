import { connect } from '@nats-io/transport-node';
import { headers, type NatsConnection } from '@nats-io/nats-core';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import {
  encodeEvent,
  type CapstanEvent,
  type EventFamily,
  type StreamSpec,
  type Topology,
} from '@capstan/events';

const NS_PER_SECOND = 1_000_000_000;

export interface PublishResult {
  stream: string;
  seq: number;
  /** True when JetStream had already seen this event id within the duplicate window. */
  duplicate: boolean;
}

/** The event backbone as the services see it: publish CloudEvents, create durable consumers. */
export class Bus {
  /** Durable consumers this process created or joined: consumer name -> durable (for bus-metrics.ts). */
  readonly consumerNames = new Map<string, string>();

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly topology: Topology,
  ) {}

  static async connect(options: { url: string; topology: Topology; name?: string }): Promise<Bus> {
    const nc = await connect({
      // A cluster is given as its servers' URLs, comma-separated (NATS_URL=nats://a:4222,nats://b:4222).
      servers: options.url.split(',').map((u) => u.trim()),
      name: options.name ?? 'capstan',
      // Services must outlive a NATS restart: keep reconnecting instead of giving up.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
    const jsm = await jetstreamManager(nc);
    const bus = new Bus(nc, jetstream(nc), jsm, options.topology);
    await bus.ensureTopology();
    return bus;
  }

  /** Creates or updates the streams; safe to call from every replica at every start. */
  async ensureTopology(): Promise<void> {
    for (const spec of [this.topology.streams.events, this.topology.streams.deadLetter]) {
      await ensureStream(this.jsm, spec);
    }
  }

  /**
   * Publishes with `Nats-Msg-Id` = the event id, so publishing the same fact twice (a retry,
   * a second replica) is dropped by the stream's duplicate window.
   */
  async publish(event: CapstanEvent): Promise<PublishResult> {
    const h = headers();
    h.set('Content-Type', 'application/cloudevents+json');
    h.set('ce-type', event.type);
    const ack = await this.js.publish(this.topology.subjectFor(event), encodeEvent(event), {
      msgID: event.id,
      headers: h,
    });
    return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
  }

  /** Creates (or updates) a durable pull consumer for one family of events. */
  async ensureConsumer(
    durable: string,
    family: EventFamily,
    options: {
      ackWaitMs: number;
      maxDeliver: number;
      maxAckPending?: number;
      ownReplica?: { inactiveThresholdMs: number };
    },
  ) {
    const stream = this.topology.streams.events.name;
    const name = consumerName(durable, family);
    const config = {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: this.topology.filter(family),
      ack_wait: options.ackWaitMs * 1_000_000,
      // One more than ours: our handler dead-letters on its last try, the server must not drop it first.
      max_deliver: options.maxDeliver + 1,
      max_ack_pending: options.maxAckPending ?? 1_000,
      ...(options.ownReplica
        ? {
            deliver_policy: DeliverPolicy.New,
            inactive_threshold: options.ownReplica.inactiveThresholdMs * 1_000_000,
          }
        : {}),
    };
    try {
      await this.jsm.consumers.info(stream, name);
      await this.jsm.consumers.update(stream, name, {
        ack_wait: config.ack_wait,
        max_deliver: config.max_deliver,
        max_ack_pending: config.max_ack_pending,
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await this.jsm.consumers.add(stream, config);
    }
    this.consumerNames.set(name, durable);
    return this.js.consumers.get(stream, name);
  }

  async healthCheck(): Promise<void> {
    if (this.nc.isClosed()) throw new Error('NATS connection closed');
    await this.nc.flush();
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain();
  }
}

export function consumerName(durable: string, family: EventFamily): string {
  return `${durable}-${family}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<void> {
  const config: Partial<StreamConfig> & { name: string } = {
    name: spec.name,
    subjects: spec.subjects,
    description: spec.description,
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: spec.maxAgeSeconds * NS_PER_SECOND,
    duplicate_window: spec.duplicateWindowSeconds * NS_PER_SECOND,
    num_replicas: spec.replicas,
  };
  try {
    await jsm.streams.info(spec.name);
    await jsm.streams.update(spec.name, config);
  } catch (e) {
    if (!isNotFound(e)) throw e;
    try {
      await jsm.streams.add(config);
    } catch (err) {
      // Another replica created it between our info and add: that is the state we wanted.
      if (!(err instanceof JetStreamApiError && /already in use/.test(err.message))) throw err;
    }
  }
}

function isNotFound(e: unknown): boolean {
  // 10059 stream not found, 10014 consumer not found.
  return e instanceof JetStreamApiError && (e.status === 404 || e.code === 10059 || e.code === 10014);
}

/** Connects to NATS JetStream and makes sure the topology's streams exist. */
export const connectBus = (options: Parameters<typeof Bus.connect>[0]) => Bus.connect(options);
