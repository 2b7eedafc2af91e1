import {
  CanarySpecError,
  commandFor,
  decide,
  dueIn,
  fold,
  initialState,
  nextAction,
  parseCanary,
  projectStatus,
  type CanaryModel,
  type NextAction,
  type RolloutCommand,
  type RolloutState,
} from '@capstan/canary-core';
import type { Actor, RolloutEvent } from '@capstan/events';
import type { Clock } from '@capstan/platform';
import type { CanaryResource, Cluster } from '../kube/cluster.js';
import type { Observed, Workload } from '../kube/workload.js';
import type { Sampler } from '../metrics/sampler.js';
import type { RolloutMetrics } from '../metrics/rollout-metrics.js';
import { callHooksOfType, type HttpFetch } from '../webhooks/webhook-client.js';
import { ConcurrentAppendError, type CanaryKey, type RolloutStore } from './rollout-store.js';
import type { CanaryPublisher } from './publisher.js';
import type { CanaryLeases } from './canary-lease.js';
import type { RolloutAnnouncer } from './rollout-announcer.js';
import { StepFollowers } from './step-followers.js';
import { Slots } from './slots.js';
import type { Owner } from '../domain/workload-objects.js';

export interface DriverDeps {
  cluster: Cluster;
  workload: Workload;
  sampler: Sampler;
  store: RolloutStore;
  publisher: CanaryPublisher;
  leases: CanaryLeases;
  announcer: RolloutAnnouncer;
  metrics?: RolloutMetrics;
  clock: Clock;
  minIntervalMs: number;
  meshProvider: string;
  /** HTTP for webhooks (a test resolves Service names through its data plane). */
  http: HttpFetch;
  log: { warn(m: string): void; error(m: string): void };
  /**
   * Called right after a step is appended, before the cluster follows and before anyone is told:
   * the crash tests kill the process here (CANARY_FAULT_KILL_AFTER), the worst moment to die.
   */
  afterRecord?: (events: readonly RolloutEvent[]) => void;
}

interface Loaded {
  uid: string;
  state: RolloutState;
  step: number;
  lastSubjectSeq: number;
  /** Steps recorded but not told yet (a crash between the append and the telling). */
  untold: { step: number; state: RolloutState; events: RolloutEvent[] }[];
  /** The last status written, to skip writes that change nothing. */
  lastStatus?: string;
}

/** From the breaching sample to the rollback recorded and routed (the benchmark reads these). */
export interface RollbackTiming {
  sampledAtMs: number;
  recordedAtMs: number;
  routedAtMs: number;
}

/** Flagger's finalizer name, so a Canary moved between Flagger and Capstan keeps its meaning. */
export const REVERT_FINALIZER = 'finalizer.flagger.app';

/** Routes and scales, and apart status writes, following decisions: in flight at once over all Canaries. */
const API_WRITES_AT_ONCE = 16;

/** Rollback timings kept for the benchmark (bounded: the analyzer runs for months). */
const KEPT_TIMINGS = 1_000;

/**
 * Drives one Canary at a time: fold its stream, look at the cluster, ask the core what to do,
 * gather webhook answers and metrics for it, decide, append the step (optimistically), then make
 * the cluster match, tell about the step and write the status projection. Commands from people
 * take the same path.
 */
export class CanaryDriver {
  private readonly loaded = new Map<string, Loaded>();
  private readonly chains = new Map<string, Promise<unknown>>();
  /** The newest version of each Canary seen, for status writes that run after a tick. */
  private readonly latest = new Map<string, CanaryResource>();
  private readonly followers: StepFollowers;
  readonly rollbacks: RollbackTiming[] = [];
  private lastSampledAtMs = 0;

  constructor(private readonly d: DriverDeps) {
    this.followers = new StepFollowers(
      async (uid, e) => {
        const res = this.latest.get(uid);
        const message = (e as Error).message;
        this.d.log.warn(`Canary ${res?.metadata.namespace ?? ''}/${res?.metadata.name ?? uid}: ${message}`);
        if (res) await this.writeProblem(res, 'ReconciliationFailed', message);
      },
      { converge: new Slots(API_WRITES_AT_ONCE), status: new Slots(API_WRITES_AT_ONCE) },
    );
  }

  /** Runs `fn` after whatever is running for this Canary: a tick and a command never interleave. */
  private serial<T>(uid: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(uid) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.chains.set(
      uid,
      next.catch(() => undefined),
    );
    return next;
  }

  forget(uid: string): void {
    this.loaded.delete(uid);
    this.chains.delete(uid);
    this.latest.delete(uid);
    this.followers.forget(uid);
    this.d.metrics?.forget(uid);
  }

  /** One tick; returns milliseconds until the Canary should be looked at again. */
  tick(res: CanaryResource): Promise<number> {
    this.latest.set(res.metadata.uid, res);
    return this.serial(res.metadata.uid, () => this.tickNow(res));
  }

  /** Resolves once what follows the Canary's decisions so far (cluster, telling, status) is done. */
  settled(uid: string): Promise<void> {
    return this.followers.settled(uid);
  }

  command(
    res: CanaryResource,
    verb: 'Promote' | 'Abort' | 'Retry' | 'Pause' | 'Resume',
    actor: Actor,
  ): Promise<RolloutState> {
    this.latest.set(res.metadata.uid, res);
    return this.serial(res.metadata.uid, async () => {
      const model = this.model(res);
      const owner = ownerOf(res);
      for (let attempt = 0; ; attempt++) {
        const l = await this.load(res, model);
        const observed = await this.d.workload.observe(model, owner);
        const at = this.d.clock.now().toISOString();
        const events = decide({ type: verb, at, actor }, l.state, model);
        try {
          await this.record(model, l, events, at);
          this.followStep(res, model, l, observed, events);
          // The person's answer comes once the cluster shows it and it is told.
          await this.followers.settled(l.uid);
          return l.state;
        } catch (e) {
          if (!(e instanceof ConcurrentAppendError) || attempt > 3) throw e;
          this.loaded.delete(res.metadata.uid);
        }
      }
    });
  }

  private model(res: CanaryResource): CanaryModel {
    const model = parseCanary({ ...res, spec: withProvider(res.spec, this.d.meshProvider) });
    return { ...model, intervalMs: Math.max(model.intervalMs, this.d.minIntervalMs) };
  }

  private async tickNow(res: CanaryResource): Promise<number> {
    let model: CanaryModel;
    try {
      model = this.model(res);
    } catch (e) {
      if (!(e instanceof CanarySpecError)) throw e;
      await this.writeProblem(res, 'InvalidSpec', e.message);
      return 30_000;
    }
    const startedAt = this.d.clock.now().getTime();
    if (!(await this.d.leases.acquire(model.namespace, model.name, model.intervalMs))) return 5_000;
    const leasedAt = this.d.clock.now().getTime();
    const key = res.metadata.uid;
    const owner = ownerOf(res);
    try {
      if (res.metadata.deletionTimestamp) return await this.terminate(res, model, owner);
      await this.keepFinalizer(res, model);
      const l = await this.load(res, model);
      const observed = await this.d.workload.observe(model, owner);
      if (l.untold.length > 0) {
        // After a crash: the cluster made to match and the untold steps told before anything new
        // is decided, so the next step cannot overtake them (nor a second crash, the telling).
        this.followStep(res, model, l, observed, []);
        await this.followers.settled(l.uid);
      }
      const now = this.d.clock.now().getTime();
      const action = nextAction(l.state, model, observed.observation, now);
      if (action.kind === 'wait') {
        if (!observed.observation.targetFound && l.state.phase === 'Initializing') {
          await this.writeProblem(
            res,
            'TargetNotFound',
            `Deployment ${model.namespace}/${model.target} not found (spec.targetRef)`,
          );
          return action.waitMs;
        }
        this.followStep(res, model, l, observed, []);
        return Math.max(50, action.waitMs);
      }
      if (action.kind === 'check' && l.state.lastStepAt) {
        // How late the step starts against its due time, and how much of that was looking.
        const due = Date.parse(l.state.lastStepAt) + model.intervalMs;
        this.d.metrics?.stepPart('late', Math.max(0, now - due) / 1000);
        this.d.metrics?.stepPart('lease', (leasedAt - startedAt) / 1000);
        this.d.metrics?.stepPart('look', (now - startedAt) / 1000);
      }
      const events = await this.act(res, model, l, observed, action);
      await this.record(model, l, events, new Date(now).toISOString());
      this.d.metrics?.stepPart('decide', (this.d.clock.now().getTime() - startedAt) / 1000);
      const rollback = action.kind === 'check' && events.some((e) => e.type === 'RolledBack');
      this.followStep(res, model, l, observed, events, rollback ? this.lastSampledAtMs : undefined);
      // A recorded step sets lastStepAt: the next one is due an interval later, however long
      // the cluster takes to follow this one (that runs beside, in order, see StepFollowers).
      return events.length === 0 ? 1_000 : Math.max(50, dueIn(l.state, model, this.d.clock.now().getTime()));
    } catch (e) {
      if (e instanceof ConcurrentAppendError) {
        this.loaded.delete(key);
        return 0;
      }
      const message = (e as Error).message;
      this.d.log.warn(`Canary ${model.namespace}/${model.name}: ${message}`);
      await this.writeProblem(res, 'ReconciliationFailed', message).catch(() => undefined);
      return 5_000;
    }
  }

  /**
   * Queues what follows a step (or a tick that decided nothing): first whatever a crashed
   * process left untold, then the cluster made to match the newest state (a rollback routes
   * traffic back before anyone is told), the telling of this step, the status.
   */
  private followStep(
    res: CanaryResource,
    model: CanaryModel,
    l: Loaded,
    observed: Observed,
    events: RolloutEvent[],
    breachSampledAtMs?: number,
  ): void {
    const state = l.state;
    const step = l.step;
    const recordedAtMs = this.d.clock.now().getTime();
    const owner = ownerOf(res);
    for (const u of l.untold.splice(0))
      this.followers.follow(l.uid, {
        tell: () => this.d.announcer.tell(l.uid, model, u.state, u.step, u.events),
      });
    this.followers.follow(l.uid, {
      converge: async () => {
        const t0 = this.d.clock.now().getTime();
        await this.d.workload.converge(model, state, observed, owner);
        this.d.metrics?.stepPart('converge', (this.d.clock.now().getTime() - t0) / 1000);
        if (breachSampledAtMs !== undefined) {
          this.rollbacks.push({
            sampledAtMs: breachSampledAtMs,
            recordedAtMs,
            routedAtMs: this.d.clock.now().getTime(),
          });
          if (this.rollbacks.length > KEPT_TIMINGS) this.rollbacks.shift();
        }
      },
      ...(events.length > 0
        ? {
            tell: async () => {
              const t0 = this.d.clock.now().getTime();
              await this.d.announcer.tell(l.uid, model, state, step, events);
              this.d.metrics?.stepPart('tell', (this.d.clock.now().getTime() - t0) / 1000);
            },
          }
        : {}),
      status: async () => {
        const t0 = this.d.clock.now().getTime();
        await this.writeStatus(this.latest.get(l.uid) ?? res, l, state);
        this.d.metrics?.stepPart('status', (this.d.clock.now().getTime() - t0) / 1000);
      },
    });
  }

  /** revertOnDeletion is a finalizer: present exactly while the spec asks for it. */
  private async keepFinalizer(res: CanaryResource, model: CanaryModel): Promise<void> {
    const finalizers = res.metadata.finalizers ?? [];
    if (model.revertOnDeletion === finalizers.includes(REVERT_FINALIZER)) return;
    const others = finalizers.filter((f) => f !== REVERT_FINALIZER);
    await this.d.cluster.setCanaryFinalizers(
      res,
      model.revertOnDeletion ? [...others, REVERT_FINALIZER] : others,
    );
  }

  /**
   * A Canary deleted with revertOnDeletion: Terminating is recorded, the target is scaled back
   * and given the apex Service (waiting for it to be ready, up to progressDeadlineSeconds), then
   * Terminated is recorded and the finalizer removed, after which the garbage collector takes
   * the primary and the other owned objects. Each part is idempotent: a crash resumes it.
   */
  private async terminate(res: CanaryResource, model: CanaryModel, owner: Owner): Promise<number> {
    if (!(res.metadata.finalizers ?? []).includes(REVERT_FINALIZER)) return 30_000;
    const l = await this.load(res, model);
    const observed = await this.d.workload.observe(model, owner);
    for (const u of l.untold.splice(0))
      this.followers.follow(l.uid, {
        tell: () => this.d.announcer.tell(l.uid, model, u.state, u.step, u.events),
      });
    await this.followers.settled(l.uid);
    await this.step(res, model, l, { type: 'Terminate', at: this.d.clock.now().toISOString() });
    const since = Date.parse(l.state.lastStepAt ?? '') || this.d.clock.now().getTime();
    const waitForReady = this.d.clock.now().getTime() - since < model.progressDeadlineMs;
    const replicas = await this.d.workload.revert(model, observed, waitForReady);
    if (replicas === undefined) return 1_000;
    await this.step(res, model, l, {
      type: 'CompleteTermination',
      at: this.d.clock.now().toISOString(),
      replicas,
    });
    await this.d.cluster.setCanaryFinalizers(
      res,
      (res.metadata.finalizers ?? []).filter((f) => f !== REVERT_FINALIZER),
    );
    return 30_000;
  }

  /** Decides a command that needs nothing from outside, records, tells and shows it. */
  private async step(res: CanaryResource, model: CanaryModel, l: Loaded, cmd: RolloutCommand): Promise<void> {
    const events = decide(cmd, l.state, model);
    if (events.length === 0) return;
    await this.record(model, l, events, cmd.at);
    await this.d.announcer.tell(l.uid, model, l.state, l.step, events);
    await this.writeStatus(res, l, l.state);
  }

  private async act(
    res: CanaryResource,
    model: CanaryModel,
    l: Loaded,
    observed: Observed,
    action: Exclude<NextAction, { kind: 'wait' }>,
  ): Promise<RolloutEvent[]> {
    const at = this.d.clock.now().toISOString();
    const s = l.state;
    if (action.kind === 'initialize') await this.d.workload.initialize(model, observed, ownerOf(res));
    const cmd = await commandFor(action, s, model, at, {
      revision: observed.observation.revision ?? '',
      trackedConfigs: observed.observation.trackedConfigs,
      hooks: (type) => callHooksOfType(model, s, type, this.d.http),
      measure: async () => {
        const t0 = this.d.clock.now().getTime();
        const measurements = await this.d.sampler.measure(model, t0);
        this.lastSampledAtMs = this.d.clock.now().getTime();
        this.d.metrics?.stepPart('measure', (this.lastSampledAtMs - t0) / 1000);
        await this.d.publisher.samples(model, l.uid, s.run, l.step + 1, s.canaryWeight, measurements, at);
        return measurements;
      },
    });
    return decide(cmd, s, model);
  }

  /** Appends one step and folds it; the caller makes the cluster follow, then tells about it. */
  private async record(model: CanaryModel, l: Loaded, events: RolloutEvent[], at: string): Promise<void> {
    if (events.length === 0) return;
    const key: CanaryKey = { namespace: model.namespace, name: model.name, uid: l.uid };
    const step = l.step + 1;
    l.lastSubjectSeq = await this.d.store.append(key, step, events, l.lastSubjectSeq, at);
    l.step = step;
    l.state = fold(events, l.state);
    this.d.metrics?.recorded(model.namespace, model.name, events);
    this.d.afterRecord?.(events);
  }

  private async load(res: CanaryResource, model: CanaryModel): Promise<Loaded> {
    const uid = res.metadata.uid;
    const cached = this.loaded.get(uid);
    if (cached) return cached;
    const history = await this.d.store.load({ namespace: model.namespace, name: model.name, uid });
    const lastStep = history.steps.at(-1)?.step ?? 0;
    // A new Canary is marked at 0 before its first step, so a crash before its first telling
    // still tells everything. No mark on a stream with steps: a stream older than the marks,
    // whose last step alone is told again (its decision ids make that harmless).
    let told = await this.d.announcer.lastTold(uid);
    if (told === undefined && lastStep === 0) await this.d.announcer.markTold(uid, 0);
    told ??= lastStep === 0 ? 0 : lastStep - 1;
    const l: Loaded = {
      uid,
      state: initialState,
      step: lastStep,
      lastSubjectSeq: history.lastSubjectSeq,
      untold: [],
    };
    for (const s of history.steps) {
      l.state = fold(s.events, l.state);
      if (s.step > told) l.untold.push({ step: s.step, state: l.state, events: s.events });
    }
    this.loaded.set(uid, l);
    this.d.metrics?.state(uid, model.namespace, model.name, l.state);
    return l;
  }

  private async writeStatus(res: CanaryResource, l: Loaded, state: RolloutState): Promise<void> {
    const status = projectStatus(state, {
      generation: res.metadata.generation ?? 0,
      now: this.d.clock.now(),
      previous: res.status?.conditions ?? [],
    });
    const text = JSON.stringify(status);
    if (text === l.lastStatus) return;
    await this.d.cluster.patchCanaryStatus(res, status as unknown as Record<string, unknown>);
    l.lastStatus = text;
    this.d.metrics?.state(l.uid, res.metadata.namespace, res.metadata.name, state);
  }

  private async writeProblem(res: CanaryResource, reason: string, message: string): Promise<void> {
    const l = this.loaded.get(res.metadata.uid);
    const state = l?.state ?? initialState;
    const status = projectStatus(state, {
      generation: res.metadata.generation ?? 0,
      now: this.d.clock.now(),
      previous: res.status?.conditions ?? [],
      problem: { reason, message },
    });
    await this.d.cluster.patchCanaryStatus(res, status as unknown as Record<string, unknown>);
    if (l) l.lastStatus = undefined;
  }
}

export function ownerOf(res: CanaryResource): Owner {
  return { apiVersion: res.apiVersion, kind: 'Canary', name: res.metadata.name, uid: res.metadata.uid };
}

function withProvider(spec: unknown, mesh: string): unknown {
  const s = (spec ?? {}) as Record<string, unknown>;
  return s['provider'] === undefined ? { ...s, provider: mesh } : s;
}
