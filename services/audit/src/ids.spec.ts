import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { uuidV7At } from './ids.js';

void describe('uuidV7At', () => {
  void it('is an RFC 9562 version 7 UUID carrying the millisecond timestamp', () => {
    const at = Date.UTC(2026, 11, 4, 22, 0, 0, 123);
    const id = uuidV7At(at);
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(parseInt(id.slice(0, 8) + id.slice(9, 13), 16), at);
  });

  void it('sorts by time across milliseconds and never repeats', () => {
    const ids = Array.from({ length: 5_000 }, (_, i) => uuidV7At(1_700_000_000_000 + Math.floor(i / 10)));
    assert.equal(new Set(ids).size, ids.length);
    for (let i = 10; i < ids.length; i += 10) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
  });
});
