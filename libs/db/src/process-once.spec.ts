import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrismaClient, type PrismaClient } from './client.js';
import { migrate } from './migrations/index.js';
import { processOnce } from './process-once.js';
import { createScratchDatabase } from './testing/scratch-database.js';

void describe('processOnce', () => {
  let db: { url: string; drop(): Promise<void> };
  let prisma: PrismaClient;
  before(async () => {
    db = await createScratchDatabase();
    await migrate(db.url);
    prisma = createPrismaClient(db.url);
  });
  after(async () => {
    await prisma.$disconnect();
    await db.drop();
  });

  // The effect writes a row of its own so we can see whether it committed.
  const effectRows = (consumer: string) => prisma.processedMessage.count({ where: { consumer } });
  const recordEffect =
    (consumer: string, id: string) => async (tx: Parameters<Parameters<typeof processOnce>[3]>[0]) => {
      await tx.processedMessage.create({ data: { consumer, messageId: id } });
    };

  void it('runs the effect once and reports a redelivery as a duplicate', async () => {
    assert.equal(await processOnce(prisma, 'c1', 'm1', recordEffect('c1-effect', 'm1')), 'processed');
    assert.equal(await processOnce(prisma, 'c1', 'm1', recordEffect('c1-effect', 'm1-again')), 'duplicate');
    assert.equal(await effectRows('c1-effect'), 1);
  });

  void it('keeps consumers apart: the same message id is new to another consumer', async () => {
    assert.equal(await processOnce(prisma, 'c2', 'shared', () => Promise.resolve()), 'processed');
    assert.equal(await processOnce(prisma, 'c3', 'shared', () => Promise.resolve()), 'processed');
  });

  void it('commits nothing when the effect fails, so the redelivery runs it', async () => {
    await assert.rejects(
      processOnce(prisma, 'c4', 'm1', async (tx) => {
        await recordEffect('c4-effect', 'm1')(tx);
        throw new Error('downstream unavailable');
      }),
      /downstream unavailable/,
    );
    assert.equal(await effectRows('c4-effect'), 0);
    assert.equal(await effectRows('c4'), 0);
    assert.equal(await processOnce(prisma, 'c4', 'm1', recordEffect('c4-effect', 'm1')), 'processed');
    assert.equal(await effectRows('c4-effect'), 1);
  });

  void it('runs the effect once when two deliveries race', async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        processOnce(prisma, 'c5', 'race', recordEffect('c5-effect', `attempt-${i}`)),
      ),
    );
    assert.equal(results.filter((r) => r === 'processed').length, 1);
    assert.equal(results.filter((r) => r === 'duplicate').length, 4);
    assert.equal(await effectRows('c5-effect'), 1);
  });
});
