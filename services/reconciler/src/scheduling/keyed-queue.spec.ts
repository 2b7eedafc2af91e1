import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedQueue } from './keyed-queue.js';

describe('KeyedQueue', () => {
  it('serializes tasks of one key and bounds concurrency across keys', async () => {
    const q = new KeyedQueue(2);
    const log: string[] = [];
    let running = 0;
    let peak = 0;
    const task = (name: string, ms: number) => async () => {
      running++;
      peak = Math.max(peak, running);
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
      running--;
    };
    await Promise.all([
      q.run('a', task('a1', 30)),
      q.run('a', task('a2', 1)),
      q.run('b', task('b1', 5)),
      q.run('c', task('c1', 5)),
    ]);
    assert.ok(log.indexOf('end a1') < log.indexOf('start a2'), 'a2 waits for a1');
    assert.equal(peak, 2);
  });

  it('keeps going after a failed task of the same key', async () => {
    const q = new KeyedQueue(1);
    await assert.rejects(
      q.run('k', () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.equal(await q.run('k', () => Promise.resolve(42)), 42);
  });

  it('lets a waiting task step aside so other keys run, without running its own key twice', async () => {
    const q = new KeyedQueue(1);
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = q.run('a', async (slot) => {
      log.push('a1 applied');
      await slot.aside(() => gate);
      log.push('a1 healthy');
    });
    const second = q.run('a', () => {
      log.push('a2');
      return Promise.resolve();
    });
    // With the only slot given back, b runs while a1 waits; a2 still waits for a1.
    await q.run('b', () => {
      log.push('b');
      return Promise.resolve();
    });
    release();
    await Promise.all([first, second]);
    assert.deepEqual(log, ['a1 applied', 'b', 'a1 healthy', 'a2']);
  });
});
