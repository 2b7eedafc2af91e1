import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDatabaseUnavailable } from './database-unavailable.js';

// Shapes as Prisma 7 + @prisma/adapter-pg really throw them against a stopped or stopping server.
const prismaError = (code: string, message: string, meta?: Record<string, unknown>) =>
  Object.assign(new Error(message), { name: 'PrismaClientKnownRequestError', code, meta });

void describe('isDatabaseUnavailable', () => {
  void it('recognizes a database that is down, restarting or out of connections', () => {
    const down = [
      prismaError('P1001', "Can't reach database server at 127.0.0.1:5432"),
      prismaError('P2010', "Raw query failed. Code: `N/A`. Message: `Can't reach database server at x`", {
        code: 'N/A',
        message: "Can't reach database server at 127.0.0.1:5432",
      }),
      new Error('Client has encountered a connection error and is not queryable'),
      prismaError('P2010', 'Raw query failed', { code: '57P01', message: 'terminating connection' }),
      prismaError('P2010', 'Raw query failed', {
        code: '57P03',
        message: 'the database system is starting up',
      }),
      prismaError('P2010', 'Raw query failed', { code: '53300', message: 'too many clients already' }),
      new Error('wrapped', {
        cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      }),
      new Error('Connection terminated unexpectedly'),
    ];
    for (const e of down) assert.equal(isDatabaseUnavailable(e), true, e.message);
  });

  void it('leaves errors about the data itself to the retry and dead-letter policy', () => {
    const bad = [
      prismaError('P2010', 'Raw query failed', {
        code: '22P05',
        message: 'unsupported Unicode escape sequence',
      }),
      prismaError('P2002', 'Unique constraint failed on the fields: (`hash`)'),
      prismaError('P2010', 'Raw query failed', { code: '23514', message: 'violates check constraint' }),
      new TypeError('Cannot read properties of undefined'),
      'a string',
      undefined,
    ];
    for (const e of bad) assert.equal(isDatabaseUnavailable(e), false, String(e));
  });
});
