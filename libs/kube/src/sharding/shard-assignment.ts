import { createHash } from 'node:crypto';

/**
 * The pure core of sharding: which shard a key falls in, which live member each shard belongs
 * to, and which members are alive as seen from here. The lease loop (shard-leases.ts) only
 * reads and writes Leases around these functions.
 */

/** A stable shard for a key (`namespace/name`): the same in every replica and every release. */
export function shardOf(key: string, shards: number): number {
  return createHash('sha1').update(key).digest().readUInt32BE(0) % shards;
}

function score(member: string, shard: number): number {
  return createHash('sha1').update(`${member}#${shard}`).digest().readUInt32BE(0);
}

/**
 * Who should hold each shard, given the live members: every member gets ⌊S/N⌋ or ⌈S/N⌉ shards,
 * and each shard goes to the member that ranks it highest (rendezvous hashing) among those with
 * room left. The answer depends only on the set of members, so every replica computes the same
 * one, and a member joining or leaving moves few shards besides its own share.
 */
export function assignShards(shards: number, members: readonly string[]): (string | undefined)[] {
  const live = [...new Set(members)].sort();
  const owner: (string | undefined)[] = Array.from({ length: shards }, () => undefined);
  if (live.length === 0) return owner;
  // The strongest preferences first, so a shard's favourite member is rarely already full.
  const wishes = live
    .flatMap((m) => Array.from({ length: shards }, (_, s) => ({ m, s, v: score(m, s) })))
    .sort((a, b) => b.v - a.v || a.m.localeCompare(b.m) || a.s - b.s);
  const count = new Map(live.map((m) => [m, 0]));
  const give = (cap: number) => {
    for (const { m, s } of wishes) {
      if (owner[s] !== undefined || (count.get(m) ?? 0) >= cap) continue;
      owner[s] = m;
      count.set(m, (count.get(m) ?? 0) + 1);
    }
  };
  // Everyone up to ⌊S/N⌋ first; the S mod N left over then go one each to their favourites.
  const base = Math.floor(shards / live.length);
  give(base);
  give(base + 1);
  return owner;
}

/** One member Lease as listed: its holder and the version of its last renewal. */
export interface MemberRecord {
  member: string;
  resourceVersion: string;
  /** False when the member left on purpose (it clears its holder on shutdown). */
  present: boolean;
}

/** What this replica has seen of each member: the version and when (its own clock) it first saw it. */
export type MemberSightings = ReadonlyMap<string, { resourceVersion: string; since: number }>;

/**
 * Folds one listing into the sightings and says who is alive. A member is dead once its Lease
 * has not changed for `leaseMs` of *our* clock since we first saw that version (client-go's
 * leader election does the same): the clocks of two machines are never compared, only the rate
 * at which each runs. A member seen for the first time is alive until proven otherwise.
 */
export function observeMembers(
  previous: MemberSightings,
  listed: readonly MemberRecord[],
  now: number,
  leaseMs: number,
): { sightings: Map<string, { resourceVersion: string; since: number }>; alive: string[] } {
  const sightings = new Map<string, { resourceVersion: string; since: number }>();
  const alive: string[] = [];
  for (const record of listed) {
    const before = previous.get(record.member);
    const since = before && before.resourceVersion === record.resourceVersion ? before.since : now;
    sightings.set(record.member, { resourceVersion: record.resourceVersion, since });
    if (record.present && now - since < leaseMs) alive.push(record.member);
  }
  return { sightings, alive: alive.sort() };
}
