import { z } from 'zod';
import { CommitObservedV1 } from './git.js';
import { ImagePushedV1 } from './registry.js';
import { DriftDetectedV1 } from './drift.js';
import {
  CanaryRolloutRecordedV1,
  METRIC_SAMPLE_TAKEN_V1,
  MetricSampledV2,
  upcastMetricSampleV1,
} from './canary.js';
import { DeployDecisionRecordedV1 } from './decision.js';

/** Every event the platform carries, newest versions. Add a `v2` here and an upcaster below. */
export const CapstanEvent = z.discriminatedUnion('type', [
  CommitObservedV1,
  ImagePushedV1,
  DriftDetectedV1,
  MetricSampledV2,
  CanaryRolloutRecordedV1,
  DeployDecisionRecordedV1,
]);
export type CapstanEvent = z.infer<typeof CapstanEvent>;
export type CapstanEventType = CapstanEvent['type'];
export type EventOf<T extends CapstanEventType> = Extract<CapstanEvent, { type: T }>;

/**
 * Upcasters turn an old version's raw envelope into the next version's, so consumers only
 * ever see current types. Keyed by the old type; each returns a raw object that is parsed again.
 */
export type Upcaster = (raw: Record<string, unknown>) => Record<string, unknown>;
const upcasters = new Map<string, Upcaster>([[METRIC_SAMPLE_TAKEN_V1, upcastMetricSampleV1]]);

export function registerUpcaster(fromType: string, upcast: Upcaster): void {
  upcasters.set(fromType, upcast);
}

export class EventValidationError extends Error {
  constructor(
    readonly reason: string,
    readonly eventType: string | undefined,
  ) {
    super(`invalid event${eventType ? ` of type ${eventType}` : ''}: ${reason}`);
    this.name = 'EventValidationError';
  }
}

/** Parses any wire payload into a current-version event, or throws EventValidationError naming the field. */
export function parseEvent(raw: unknown): CapstanEvent {
  let current = raw;
  // Bounded: a chain of upcasters can never be longer than the number registered.
  for (let hops = 0; hops <= upcasters.size; hops++) {
    const type = typeOf(current);
    const upcast = type === undefined ? undefined : upcasters.get(type);
    if (!upcast) break;
    current = upcast(current as Record<string, unknown>);
  }
  const result = CapstanEvent.safeParse(current);
  if (result.success) return result.data;
  throw new EventValidationError(z.prettifyError(result.error).replaceAll('\n', '; '), typeOf(current));
}

export function decodeEvent(bytes: Uint8Array): CapstanEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new EventValidationError(`not JSON: ${(e as Error).message}`, undefined);
  }
  return parseEvent(raw);
}

export function encodeEvent(event: CapstanEvent): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(event));
}

function typeOf(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const t = (raw as { type?: unknown }).type;
  return typeof t === 'string' ? t : undefined;
}
