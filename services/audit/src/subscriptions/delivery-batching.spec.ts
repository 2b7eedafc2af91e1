import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CompletionBatch } from './completion-batch.js';
import { statusWriteDue } from './subscription-status.js';

void describe('CompletionBatch', () => {
  void it('writes items added while a write runs together, in order, and resolves each', async () => {
    const writes: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const batch = new CompletionBatch<number>(async (items) => {
      writes.push(items);
      if (writes.length === 1) await gate;
    });
    const first = batch.add(1);
    // Wait until the first write has started, then queue more behind it.
    while (writes.length === 0) await new Promise((r) => setImmediate(r));
    const rest = [2, 3, 4].map((n) => batch.add(n));
    release();
    await Promise.all([first, ...rest]);
    await batch.idle();
    assert.deepEqual(writes, [[1], [2, 3, 4]]);
  });

  void it('rejects the items of a failed write and keeps going', async () => {
    let fail = true;
    const written: number[] = [];
    const batch = new CompletionBatch<number>((items) => {
      if (fail) {
        fail = false;
        return Promise.reject(new Error('database down'));
      }
      written.push(...items);
      return Promise.resolve();
    });
    await assert.rejects(batch.add(1), /database down/);
    await batch.add(2);
    assert.deepEqual(written, [2]);
  });
});

void describe('statusWriteDue', () => {
  const base = { pending: 10, failures: 0, deadLetters: 0 };
  const at = 1_000_000;

  void it('writes a first status, skips an unchanged one', () => {
    assert.equal(statusWriteDue(undefined, base, at, 5_000), true);
    assert.equal(statusWriteDue({ status: base, at }, { ...base }, at + 60_000, 5_000), false);
  });

  void it('throttles progress, but not failures, dead letters or a drained queue', () => {
    const prev = { status: base, at };
    assert.equal(statusWriteDue(prev, { ...base, pending: 5 }, at + 1_000, 5_000), false);
    assert.equal(statusWriteDue(prev, { ...base, pending: 5 }, at + 5_000, 5_000), true);
    assert.equal(statusWriteDue(prev, { ...base, pending: 0 }, at + 1_000, 5_000), true);
    assert.equal(statusWriteDue(prev, { ...base, failures: 1 }, at + 1_000, 5_000), true);
    assert.equal(statusWriteDue(prev, { ...base, deadLetters: 1 }, at + 1_000, 5_000), true);
    assert.equal(
      statusWriteDue(prev, { ...base, lastFailure: { time: 'x', message: 'HTTP 500' } }, at + 1_000, 5_000),
      true,
    );
  });
});
