import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describeError } from './describe-error.js';

describe('describeError', () => {
  it('names a refused connection behind fetch failed, with the address', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const error = await fetch(`http://127.0.0.1:${port}/index.yaml`).catch((e: unknown) => e);
    assert.match(
      describeError(error),
      new RegExp(`fetch failed: connection refused by 127\\.0\\.0\\.1:${port}`),
    );
  });

  it('never says [object Object]', () => {
    assert.equal(describeError({ code: 409, reason: 'Conflict' }), '{"code":409,"reason":"Conflict"}');
    assert.equal(describeError({ message: 'stream not found' }), 'stream not found');
    assert.equal(describeError('plain'), 'plain');
    assert.equal(describeError(new Error('outer', { cause: new Error('inner') })), 'outer: inner');
  });
});
