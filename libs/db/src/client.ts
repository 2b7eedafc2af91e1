import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient, Prisma } from './generated/prisma/client.js';

export { PrismaClient, Prisma };
/** What an effect inside `$transaction` (or `processOnce`) receives. */
export type TransactionClient = Prisma.TransactionClient;

export interface PrismaClientOptions {
  /** Size of the pg pool behind the client. */
  maxConnections?: number;
  applicationName?: string;
}

/** The one way services build a Prisma client: Prisma 7 talks to Postgres through the `pg` driver adapter. */
export function createPrismaClient(databaseUrl: string, options: PrismaClientOptions = {}): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    ...(options.maxConnections === undefined ? {} : { max: options.maxConnections }),
    ...(options.applicationName === undefined ? {} : { application_name: options.applicationName }),
  });
  return new PrismaClient({ adapter });
}
