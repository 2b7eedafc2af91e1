import type { PrismaClient, TransactionClient } from './client.js';

export type ProcessOnceResult = 'processed' | 'duplicate';

/**
 * Runs `effect` at most once per (consumer, messageId): the effect and the processed mark commit
 * in one transaction, so a crash between them is impossible and a redelivery is a no-op that
 * still counts as success (ack it).
 *
 * The mark is written first: a concurrent delivery of the same message then blocks on the
 * uncommitted key and, once the first commits, sees the conflict and reports 'duplicate'; if the
 * first rolls back, the second goes ahead and runs the effect itself.
 */
export async function processOnce(
  prisma: PrismaClient,
  consumer: string,
  messageId: string,
  effect: (tx: TransactionClient) => Promise<void>,
  options: { timeoutMs?: number } = {},
): Promise<ProcessOnceResult> {
  return prisma.$transaction(
    async (tx) => {
      const marked = await tx.$executeRaw`
        INSERT INTO processed_messages (consumer, message_id) VALUES (${consumer}, ${messageId})
        ON CONFLICT (consumer, message_id) DO NOTHING`;
      if (marked === 0) return 'duplicate';
      await effect(tx);
      return 'processed';
    },
    { timeout: options.timeoutMs ?? 15_000, maxWait: 10_000 },
  );
}
