import { Kvm, type KV } from '@nats-io/kv';
import type { Bus } from '@capstan/messaging';

/**
 * The last step of each Canary whose telling is done: decisions published, event webhooks,
 * alerts and post-rollout hooks sent. A step is appended to the rollout stream first and told
 * afterwards, so a crash in between (kill -9 at the worst moment) leaves a recorded step nobody
 * heard of; on load the analyzer tells every step after this mark again. Telling is therefore
 * at least once: a crash after the alerts went out but before the mark repeats them, which a
 * person prefers to a rollback nobody was told about. Decisions are deduplicated by their ids.
 *
 * A JetStream KV bucket rather than a marker in the rollout stream: the stream's subject is
 * appended with an expected last sequence, and a marker there would make every telling race
 * the next step. One key per Canary uid, one small put per step.
 */
export class AnnouncedSteps {
  private constructor(private readonly kv: KV) {}

  static async open(bus: Bus): Promise<AnnouncedSteps> {
    const kv = await new Kvm(bus.js).create(
      `${bus.topology.prefix.toUpperCase().replaceAll('-', '_')}_CANARY_ANNOUNCED`,
      { history: 1, description: 'canary-analyzer: the last rollout step told per Canary' },
    );
    return new AnnouncedSteps(kv);
  }

  /** The last step told; undefined when nothing was recorded for this Canary yet. */
  async last(uid: string): Promise<number | undefined> {
    const entry = await this.kv.get(uid);
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) return undefined;
    const n = Number(entry.string());
    return Number.isInteger(n) ? n : undefined;
  }

  async mark(uid: string, step: number): Promise<void> {
    await this.kv.put(uid, String(step));
  }
}
