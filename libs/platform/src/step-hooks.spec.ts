import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './config.js';
import { StepHooks, StepHooksConfig } from './step-hooks.js';

describe('StepHooks', () => {
  it('rejects an unknown step at start, naming the variable and the known steps', () => {
    assert.throws(
      () => loadConfig(StepHooksConfig, { TEST_PAUSE_AT: 'reconciler.planned,reconciler.plannd' }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.issues.some(
          (i) => i.variable === 'TEST_PAUSE_AT' && /unknown step "reconciler\.plannd"/.test(i.message),
        ),
    );
  });

  it('does nothing by default', () => {
    const config = loadConfig(StepHooksConfig, {});
    assert.deepEqual(config.TEST_PAUSE_AT, []);
    new StepHooks(config).step('reconciler.planned', 'a/b');
  });

  it('traces every step as a JSON line, a paused one too', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'capstan-steps-')), 'trace.jsonl');
    const hooks = new StepHooks(
      loadConfig(StepHooksConfig, {
        TEST_PAUSE_AT: 'reconciler.deciding',
        TEST_PAUSE_MS: '200',
        TEST_TRACE_FILE: file,
      }),
    );
    hooks.step('reconciler.planned', 'ns/a');
    hooks.step('reconciler.deciding', 'ns/a'); // paused for 200 ms, then goes on
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: string; key: string; pid: number });
    assert.deepEqual(
      lines.map((l) => [l.step, l.key, l.pid]),
      [
        ['reconciler.planned', 'ns/a', process.pid],
        ['reconciler.deciding', 'ns/a', process.pid],
      ],
    );
  });
});
