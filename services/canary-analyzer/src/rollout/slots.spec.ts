import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Slots } from './slots.js';

describe('Slots', () => {
  it('runs at most its size at once, the others in arrival order, and frees a slot on failure', async () => {
    const slots = new Slots(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const job = (i: number, fail = false) =>
      slots.run(async () => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        order.push(i);
        if (fail) throw new Error(`job ${i}`);
        return i;
      });
    const results = await Promise.allSettled([job(0), job(1, true), job(2), job(3), job(4)]);
    assert.equal(most, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    assert.equal(results[1].status, 'rejected');
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 4);
  });
});
