import { appendFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * The named steps at which a chaos test may stop a service (`kill -9` comes from the test), one
 * closed set for every service so a misspelt step fails at start instead of never firing. Only
 * steps some code marks are listed. The canary analyzer has its own kill point instead
 * (CANARY_FAULT_KILL_AFTER: right after a step is appended, before the cluster follows or anyone
 * is told), which e2e/src/canary-resilience.spec.ts uses for every phase.
 */
export const STEPS = [
  'git-watcher.fetched',
  'reconciler.run-start',
  'reconciler.planned',
  'reconciler.applying',
  'reconciler.finishing',
  'reconciler.deciding',
  'reconciler.run-end',
  'registry-watcher.committed',
  /** A batch's rows inserted and chained, its transaction (and the chain lock) still open. */
  'audit.batch-inserted',
  /** A batch committed, its messages not acked yet. */
  'audit.batch-committed',
] as const;
export type Step = (typeof STEPS)[number];

const stepList = z
  .string()
  .default('')
  .transform((v, ctx) => {
    const steps = v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const s of steps)
      if (!(STEPS as readonly string[]).includes(s))
        ctx.addIssue({ code: 'custom', message: `unknown step "${s}"; known: ${STEPS.join(', ')}` });
    return steps as Step[];
  });

/** Test-only settings; unset in production, where every step is a no-op. */
export const StepHooksConfig = z.object({
  /** Steps at which the process prints `capstan-step <step> <key>` to stderr and then stops still. */
  TEST_PAUSE_AT: stepList,
  /** How long a paused step waits before going on (the test normally kills it first). */
  TEST_PAUSE_MS: z.coerce.number().int().min(0).default(60_000),
  /** A file every step is appended to as a JSON line ({pid, step, key, at}), for tests that check order. */
  TEST_TRACE_FILE: z.string().optional(),
});
export type StepHooksConfig = z.infer<typeof StepHooksConfig>;

/**
 * Marks a step. Synchronous on purpose: a step inside a callback (an object written mid-apply)
 * must stop right there, so the pause blocks the thread (Atomics.wait) rather than awaiting, and
 * the marker and the trace are written with synchronous calls before it.
 */
export class StepHooks {
  private readonly pauses: ReadonlySet<Step>;

  constructor(private readonly config: StepHooksConfig) {
    this.pauses = new Set(config.TEST_PAUSE_AT);
  }

  static readonly none = new StepHooks({ TEST_PAUSE_AT: [], TEST_PAUSE_MS: 0 });

  step(step: Step, key = ''): void {
    if (this.config.TEST_TRACE_FILE)
      appendFileSync(
        this.config.TEST_TRACE_FILE,
        `${JSON.stringify({ pid: process.pid, step, key, at: Date.now() })}\n`,
      );
    if (!this.pauses.has(step)) return;
    process.stderr.write(`capstan-step ${step} ${key}\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, this.config.TEST_PAUSE_MS);
  }
}
