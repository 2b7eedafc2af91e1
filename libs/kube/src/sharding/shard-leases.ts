import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { assignShards, observeMembers, shardOf, type MemberSightings } from './shard-assignment.js';

export interface ShardLeasesOptions {
  namespace: string;
  /** Names this group of replicas (`<event prefix>-<service>`); every Lease name starts with it. */
  group: string;
  /** This replica (the pod's name); unique among the live replicas. */
  identity: string;
  shards: number;
  /** A replica whose member Lease stays unchanged this long is dead; its shards move. */
  leaseMs: number;
  /** How often the member Lease is renewed and the group looked at. */
  renewMs: number;
  /** Work of a shard still running here: a handover waits for it, at most `drainMs`. */
  busy?: (shard: number) => boolean;
  drainMs?: number;
  /** Monotonic milliseconds (performance.now by default); never compared across machines. */
  now?: () => number;
  log?: { log(message: string): void; warn(message: string): void };
}

export type ShardListener = (shards: readonly number[]) => void;

/** Who may act on a key now, as the services ask it. */
export interface ShardOwnership {
  shardOf(key: string): number;
  /** New work for the key may start on this replica. */
  owns(key: string): boolean;
  /** Work already started for the key may go on writing (false once the shard is lost). */
  mayContinue(key: string): boolean;
}

const GROUP_LABEL = 'capstan.dev/shard-group';
const ROLE_LABEL = 'capstan.dev/shard-role';

/** The label selector of a group's shard Leases (not its members' presence Leases). */
export function shardLeaseSelector(group: string): string {
  return `${GROUP_LABEL}=${group},${ROLE_LABEL}=shard`;
}

/** The shard a shard Lease stands for, from its name (`<group>-shard-<n>`); undefined for others. */
export function shardOfLease(lease: V1Lease): number | undefined {
  const shard = /-shard-(\d+)$/.exec(lease.metadata?.name ?? '')?.[1];
  return shard === undefined ? undefined : Number(shard);
}

/**
 * Splits keys (Syncs, repositories) between the live replicas of a service with Kubernetes
 * Leases in one namespace:
 *
 * - one *member* Lease per replica, renewed every `renewMs`: the group's membership;
 * - one Lease per *shard*, naming the replica that holds it; written only when a shard changes
 *   hands, never to renew (member renewals keep a holder's claim alive).
 *
 * Every replica computes the same assignment from the live members (assignShards), takes the
 * shards assigned to it that are free or whose holder is dead, and hands over the ones assigned
 * to someone else once its running work for them is done. A replica may act on a shard only
 * while it holds the shard's Lease *and* its own member Lease is fresh: `renewMs` before the
 * others could call it dead (measured from when the renewal was sent), it stops by itself.
 * Takeover writes carry the resourceVersion read, so two replicas can never both take a shard.
 */
export class ShardLeases implements ShardOwnership {
  private readonly api: CoordinationV1Api;
  private readonly identity: string;
  private readonly now: () => number;
  private readonly held = new Set<number>();
  private readonly releasing = new Map<number, number>();
  private readonly gainedListeners: ShardListener[] = [];
  private readonly lostListeners: ShardListener[] = [];
  private sightings: MemberSightings = new Map();
  private member?: V1Lease;
  private validUntil = -Infinity;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private stopped = false;
  private firstTick?: Promise<void>;
  /** Live members in the last look, for metrics and logs. */
  members: string[] = [];

  constructor(
    kc: KubeConfig,
    private readonly options: ShardLeasesOptions,
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api);
    this.identity = dnsLabel(options.identity);
    this.now = options.now ?? (() => performance.now());
    if (!Number.isInteger(options.shards) || options.shards < 1)
      throw new Error(`shards ${options.shards} must be a whole number of at least 1`);
    if (options.renewMs * 2 >= options.leaseMs)
      throw new Error(
        `lease ${options.leaseMs} ms must be more than twice the renewal ${options.renewMs} ms`,
      );
  }

  get id(): string {
    return this.identity;
  }

  shardOf(key: string): number {
    return shardOf(key, this.options.shards);
  }

  owns(key: string): boolean {
    const shard = this.shardOf(key);
    return this.valid() && this.held.has(shard) && !this.releasing.has(shard);
  }

  mayContinue(key: string): boolean {
    return this.valid() && this.held.has(this.shardOf(key));
  }

  /** Shards this replica holds now. */
  heldShards(): number[] {
    return this.valid() ? [...this.held].sort((a, b) => a - b) : [];
  }

  onGained(listener: ShardListener): void {
    this.gainedListeners.push(listener);
  }

  onLost(listener: ShardListener): void {
    this.lostListeners.push(listener);
  }

  /** Joins the group; resolves after the first look (the shards then free are taken). */
  start(): Promise<void> {
    this.firstTick ??= this.loop();
    return this.firstTick;
  }

  /** Leaves the group: gives every shard back and removes the member Lease, so others take over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    const shards = [...this.held];
    this.lose(shards);
    await Promise.all(shards.map((s) => this.deleteLease(this.shardName(s)).catch(() => undefined)));
    await this.deleteLease(this.memberName()).catch(() => undefined);
    this.validUntil = -Infinity;
  }

  private valid(): boolean {
    return !this.stopped && this.now() < this.validUntil;
  }

  private async loop(): Promise<void> {
    if (this.stopped) return;
    const started = this.now();
    this.ticking = this.tick().catch((e: unknown) => this.options.log?.warn(`shard leases: ${describe(e)}`));
    await this.ticking;
    // stop() may have been called while the tick ran (flow analysis cannot see that).
    if (this.stopped as boolean) return;
    this.timer = setTimeout(
      () => void this.loop(),
      Math.max(0, this.options.renewMs - (this.now() - started)),
    );
  }

  private async tick(): Promise<void> {
    const sent = this.now();
    try {
      await this.renewMember();
      // A claim that ran out, even for a moment (a renewal slower than the margin), is not
      // revived: the shards may have moved, and work skipped while we were not valid would be
      // forgotten. They are dropped here and taken again below (preconditioned writes), and
      // the gain reschedules their keys.
      if (this.now() >= this.validUntil && this.held.size > 0) this.lose([...this.held]);
      this.validUntil = sent + this.options.leaseMs - this.options.renewMs;
    } catch (e) {
      this.options.log?.warn(`shard leases: cannot renew ${this.memberName()}: ${describe(e)}`);
    }
    if (!this.valid()) {
      if (this.held.size > 0) this.lose([...this.held]);
      return;
    }
    const listed = (
      await this.api.listNamespacedLease({
        namespace: this.options.namespace,
        labelSelector: `${GROUP_LABEL}=${this.options.group}`,
      })
    ).items;
    const shards = new Map<number, V1Lease>();
    const records = [];
    for (const lease of listed) {
      const role = lease.metadata?.labels?.[ROLE_LABEL];
      if (role === 'member' && lease.spec?.holderIdentity)
        records.push({
          member: lease.spec.holderIdentity,
          resourceVersion: lease.metadata?.resourceVersion ?? '',
          present: true,
        });
      const shard = shardOfLease(lease);
      if (role === 'shard' && shard !== undefined) shards.set(shard, lease);
    }
    const seen = observeMembers(this.sightings, records, this.now(), this.options.leaseMs);
    this.sightings = seen.sightings;
    // A member silent for ten lease durations is a pod that will not come back (pods get new
    // names): its Lease is removed so they do not pile up. Any replica may; the version guards it.
    for (const r of records) {
      const since = this.sightings.get(r.member)?.since ?? this.now();
      if (r.member !== this.identity && this.now() - since > 10 * this.options.leaseMs)
        await this.deleteLease(this.memberName(r.member), r.resourceVersion).catch(() => undefined);
    }
    const alive = new Set([...seen.alive, this.identity]);
    this.members = [...alive].sort();
    const desired = assignShards(this.options.shards, this.members);
    const gained: number[] = [];
    const resumed: number[] = [];
    await Promise.all(
      desired.map(async (want, shard) => {
        const lease = shards.get(shard);
        const holder = lease?.spec?.holderIdentity || undefined;
        if (this.held.has(shard) && holder !== this.identity) {
          this.lose([shard]); // taken while we could not renew
          return;
        }
        if (want === this.identity) {
          if (holder === this.identity && this.held.has(shard)) {
            // A handover begun while a member looked dead (a slow renewal under load) and still
            // draining is called off: the shard stays here. Its keys refused meanwhile (owns()
            // was false, "the new owner schedules it") would otherwise wait for their interval.
            if (this.releasing.delete(shard)) resumed.push(shard);
            return;
          }
          if (holder && holder !== this.identity && alive.has(holder)) return; // it hands over soon
          if (await this.take(shard, lease)) gained.push(shard);
          return;
        }
        if (this.held.has(shard)) await this.handOver(shard, lease);
      }),
    );
    if (!this.valid()) return;
    for (const s of gained) this.held.add(s);
    gained.sort((a, b) => a - b);
    resumed.sort((a, b) => a - b);
    if (gained.length > 0)
      this.options.log?.log(`shard leases: ${this.identity} took shards ${gained.join(',')}`);
    if (resumed.length > 0)
      this.options.log?.log(
        `shard leases: ${this.identity} kept shards ${resumed.join(',')} (handover called off)`,
      );
    // A kept shard is announced like a gained one, so the keys refused meanwhile are scheduled.
    const announced = [...gained, ...resumed].sort((a, b) => a - b);
    if (announced.length > 0) for (const l of this.gainedListeners) l(announced);
  }

  /** Writes this replica into a shard's Lease, conditioned on the version read. */
  private async take(shard: number, lease: V1Lease | undefined): Promise<boolean> {
    const name = this.shardName(shard);
    const spec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.options.leaseMs / 1000),
      acquireTime: microTime(new Date()) as unknown as Date,
      renewTime: microTime(new Date()) as unknown as Date,
      leaseTransitions: (lease?.spec?.leaseTransitions ?? -1) + 1,
    };
    try {
      if (!lease)
        await this.api.createNamespacedLease({
          namespace: this.options.namespace,
          body: { metadata: { name, namespace: this.options.namespace, labels: this.labels('shard') }, spec },
        });
      else
        await this.api.replaceNamespacedLease({
          name,
          namespace: this.options.namespace,
          body: { metadata: lease.metadata, spec },
        });
      return true;
    } catch (e) {
      if (codeOf(e) === 409) return false; // someone else wrote it first; look again next time
      throw e;
    }
  }

  /** Stops new work on the shard, waits for running work (at most drainMs), then frees it. */
  private async handOver(shard: number, lease: V1Lease | undefined): Promise<void> {
    const since = this.releasing.get(shard) ?? this.now();
    this.releasing.set(shard, since);
    const draining = this.options.busy?.(shard) ?? false;
    if (draining && this.now() - since < (this.options.drainMs ?? 30_000)) return;
    this.lose([shard]);
    if (lease?.spec?.holderIdentity === this.identity)
      await this.deleteLease(this.shardName(shard), lease.metadata?.resourceVersion);
  }

  private lose(shards: number[]): void {
    const lost = shards.filter((s) => this.held.delete(s));
    for (const s of shards) this.releasing.delete(s);
    if (lost.length === 0) return;
    lost.sort((a, b) => a - b);
    this.options.log?.log(`shard leases: ${this.identity} gave up shards ${lost.join(',')}`);
    for (const l of this.lostListeners) l(lost);
  }

  private async renewMember(): Promise<void> {
    const name = this.memberName();
    const namespace = this.options.namespace;
    const spec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.options.leaseMs / 1000),
      renewTime: microTime(new Date()) as unknown as Date,
    };
    if (!this.member) {
      try {
        this.member = await this.api.readNamespacedLease({ name, namespace });
      } catch (e) {
        if (codeOf(e) !== 404) throw e;
        this.member = await this.api.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace, labels: this.labels('member') },
            spec: { ...spec, acquireTime: spec.renewTime },
          },
        });
        return;
      }
    }
    try {
      this.member = await this.api.replaceNamespacedLease({
        name,
        namespace,
        body: { metadata: this.member.metadata, spec: Object.assign({}, this.member.spec, spec) },
      });
    } catch (e) {
      this.member = undefined; // read afresh next time (409: a stale copy; 404: removed)
      throw e;
    }
  }

  private async deleteLease(name: string, resourceVersion?: string): Promise<void> {
    try {
      await this.api.deleteNamespacedLease({
        name,
        namespace: this.options.namespace,
        ...(resourceVersion ? { body: { preconditions: { resourceVersion } } } : {}),
      });
    } catch (e) {
      if (codeOf(e) !== 404 && codeOf(e) !== 409) throw e;
    }
  }

  private labels(role: 'member' | 'shard'): Record<string, string> {
    return {
      [GROUP_LABEL]: this.options.group,
      [ROLE_LABEL]: role,
      'app.kubernetes.io/managed-by': 'capstan',
    };
  }

  private memberName(identity = this.identity): string {
    return `${this.options.group}-member-${identity}`.slice(0, 253);
  }

  private shardName(shard: number): string {
    return `${this.options.group}-shard-${shard}`;
  }
}

/** Lease names and holder identities: lower case, digits, `-` and `.`. */
function dnsLabel(value: string): string {
  const v = value
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return v.slice(0, 200) || 'replica';
}

function codeOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// MicroTime: the API server wants six fractional digits; the client passes the string through.
const microTime = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
