import type { Registry } from 'prom-client';
import { capstanCounter, capstanGauge, capstanHistogram } from '@capstan/platform';
import type { RolloutEvent } from '@capstan/events';
import type { RolloutState } from '@capstan/canary-core';

interface Known {
  namespace: string;
  name: string;
  state: RolloutState;
}

/**
 * The analyzer's own series (names in libs/platform metric-names.ts): each Canary's weight,
 * phase and failed checks, read from the folded rollout states at every scrape (a Canary the
 * analyzer forgot disappears), and verdicts counted as checks are recorded.
 */
export class RolloutMetrics {
  private readonly known = new Map<string, Known>();
  private readonly verdicts;
  private readonly parts;

  constructor(registry: Registry) {
    this.verdicts = capstanCounter(registry, 'canaryVerdicts');
    this.parts = capstanHistogram(
      registry,
      'canaryStepPart',
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    );
    capstanGauge(registry, 'canaryWeight', (set) => {
      for (const k of this.known.values())
        set({ namespace: k.namespace, name: k.name }, k.state.canaryWeight);
    });
    capstanGauge(registry, 'canaryPhase', (set) => {
      for (const k of this.known.values())
        set({ namespace: k.namespace, name: k.name, phase: k.state.phase }, 1);
    });
    capstanGauge(registry, 'canaryFailedChecks', (set) => {
      for (const k of this.known.values())
        set({ namespace: k.namespace, name: k.name }, k.state.failedChecks);
    });
  }

  /** The Canary's state after a tick (or after loading its stream). */
  state(uid: string, namespace: string, name: string, state: RolloutState): void {
    this.known.set(uid, { namespace, name, state });
  }

  /** Events just recorded for a Canary. */
  recorded(namespace: string, name: string, events: readonly RolloutEvent[]): void {
    for (const e of events)
      if (e.type === 'CheckCompleted')
        this.verdicts.inc({ namespace, name, verdict: e.verdict.toLowerCase() });
  }

  /**
   * How long one part of a step took: late (its start against its due time), look (lease, stream
   * and cluster before deciding), lease (the part of look spent making sure of the Lease), measure
   * (the metric queries), decide (tick start to recorded), converge, tell, status.
   */
  stepPart(
    part: 'late' | 'look' | 'lease' | 'measure' | 'decide' | 'converge' | 'tell' | 'status',
    seconds: number,
  ): void {
    this.parts.observe({ part }, seconds);
  }

  forget(uid: string): void {
    this.known.delete(uid);
  }
}
