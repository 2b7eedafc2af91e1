import { Logger } from '@nestjs/common';
import pg from 'pg';
import { createPgPool, createPrismaClient, type PrismaClient } from '@capstan/db';
import { createTestDatabase } from '@capstan/testing';
import type { Clock } from '@capstan/platform';
import { DecisionIngest } from '../ingest/decision-ingest.service.js';
import { DecisionRepository } from '../persistence/decision.repository.js';
import { ChainVerifier } from '../verification/chain-verifier.service.js';
import { fixedIds } from './decision-events.js';

/** A clock tests move by hand. */
export function manualClock(start = new Date('2026-11-22T10:00:30Z')): Clock & { advance(ms: number): void } {
  let now = start.getTime();
  return { now: () => new Date(now), advance: (ms) => (now += ms) };
}

/** The audit service's persistence on a private database, wired by hand (no Nest needed). */
export async function auditOnTestDatabase() {
  // Outside a Nest app the static logger prints every level; keep test output to problems.
  Logger.overrideLogger(['error', 'warn']);
  const db = await createTestDatabase();
  const prisma: PrismaClient = createPrismaClient(db.url);
  const pool = createPgPool(db.url);
  const repository = new DecisionRepository(prisma, pool);
  const clock = manualClock();
  const ingest = new DecisionIngest(repository, clock, fixedIds());
  const verifier = new ChainVerifier(repository);
  return {
    url: db.url,
    prisma,
    pool,
    repository,
    ingest,
    verifier,
    clock,
    /** Runs SQL as the superuser, e.g. to tamper with rows behind the triggers' back. */
    async sql<R extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<R[]> {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        return (await client.query<R>(text, params)).rows;
      } finally {
        await client.end();
      }
    },
    async close() {
      await prisma.$disconnect();
      await pool.end();
      await db.drop();
    },
  };
}
export type AuditOnTestDatabase = Awaited<ReturnType<typeof auditOnTestDatabase>>;
