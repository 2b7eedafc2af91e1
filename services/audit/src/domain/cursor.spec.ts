import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCursor, encodeCursor, InvalidCursorError, paginate } from './cursor.js';

void describe('cursor', () => {
  void it('round-trips a seq and looks opaque', () => {
    const c = encodeCursor(12345n);
    assert.doesNotMatch(c, /12345/);
    assert.equal(decodeCursor(c), 12345n);
  });

  void it('rejects anything it did not make', () => {
    for (const bad of [
      '',
      'abc',
      encodeCursor(0n),
      Buffer.from('v1:-1').toString('base64url'),
      Buffer.from('v2:5').toString('base64url'),
    ]) {
      assert.throws(() => decodeCursor(bad), InvalidCursorError, bad);
    }
  });

  void it('points the next page after the last item, and only when there is more', () => {
    const rows = [5n, 4n, 3n].map((seq) => ({ seq }));
    const page = paginate(rows, 2);
    assert.deepEqual(page.items, rows.slice(0, 2));
    assert.equal(decodeCursor(page.nextCursor!), 4n);
    assert.equal(paginate(rows, 3).nextCursor, null);
  });
});
