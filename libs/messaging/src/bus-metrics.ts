import type { Registry } from 'prom-client';
import { capstanGauge } from '@capstan/platform';
import { token } from '@capstan/events';
import type { Bus } from './bus.js';

/**
 * The event backbone's health as every service sees it, read from JetStream at each scrape (a
 * few cheap API requests): consumer lag and unacknowledged messages of the durable consumers
 * this process uses, queue depth of the streams, and the dead letters per consumer. Values come
 * from the server, so they agree across replicas and survive restarts; dashboards take `max`
 * over the replicas.
 */
export function registerBusMetrics(bus: Bus, registry: Registry): void {
  const { events, deadLetter } = bus.topology.streams;
  // `<prefix>.dlq.<durable>`: everything before the durable's token.
  const dlqPrefix = bus.topology.deadLetterSubject('x').slice(0, -1);
  const consumers = async () =>
    (
      await Promise.all(
        [...bus.consumerNames.keys()].map((name) =>
          bus.jsm.consumers.info(events.name, name).catch(() => null),
        ),
      )
    ).filter((c) => c !== null);

  capstanGauge(registry, 'consumerPending', async (set) => {
    for (const c of await consumers()) set({ stream: c.stream_name, consumer: c.name }, c.num_pending);
  });
  capstanGauge(registry, 'consumerAckPending', async (set) => {
    for (const c of await consumers()) set({ stream: c.stream_name, consumer: c.name }, c.num_ack_pending);
  });
  capstanGauge(registry, 'consumerRedelivered', async (set) => {
    for (const c of await consumers()) set({ stream: c.stream_name, consumer: c.name }, c.num_redelivered);
  });
  capstanGauge(registry, 'streamMessages', async (set) => {
    for (const [role, name] of [
      ['events', events.name],
      ['dead-letter', deadLetter.name],
    ] as const) {
      const info = await bus.jsm.streams.info(name).catch(() => null);
      if (info) set({ stream: name, role }, info.state.messages);
    }
  });
  capstanGauge(registry, 'deadLetters', async (set) => {
    const info = await bus.jsm.streams.info(deadLetter.name, { subjects_filter: '>' }).catch(() => null);
    // Subjects are `<prefix>.dlq.<durable>`; a durable of this process without dead letters
    // reports 0, so a rule can tell "none yet" from "not reported".
    const counts = new Map<string, number>(
      [...new Set(bus.consumerNames.values())].map((d) => [token(d), 0]),
    );
    for (const [subject, n] of Object.entries(info?.state.subjects ?? {})) {
      if (subject.startsWith(dlqPrefix)) counts.set(subject.slice(dlqPrefix.length), n);
    }
    for (const [consumer, n] of counts) set({ stream: deadLetter.name, consumer }, n);
  });
}
