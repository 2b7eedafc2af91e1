import {
  Inject,
  Injectable,
  type OnApplicationShutdown,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common';
import { createPgPool, createPrismaClient, type PgPool, type PrismaClient } from '@capstan/db';
import { Readiness } from '@capstan/platform';

export const PRISMA = Symbol('PrismaClient');
/** A plain pg pool for the chain's appends (see createPgPool); two connections, appends queue on a lock anyway. */
export const PG_POOL = Symbol('PgPool');

export const prismaProvider = (databaseUrl: string): Provider => ({
  provide: PRISMA,
  useFactory: () => createPrismaClient(databaseUrl, { applicationName: 'capstan-audit' }),
});

export const pgPoolProvider = (databaseUrl: string): Provider => ({
  provide: PG_POOL,
  useFactory: () => createPgPool(databaseUrl, { applicationName: 'capstan-audit-append', maxConnections: 2 }),
});

/** Ties the client to the app: /readyz asks the database, shutdown closes the pool. */
@Injectable()
export class DatabaseLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    @Inject(PG_POOL) private readonly pool: PgPool,
    private readonly readiness: Readiness,
  ) {}

  onModuleInit(): void {
    this.readiness.register('database', async () => {
      await this.prisma.$queryRaw`SELECT 1`;
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.prisma.$disconnect();
    await this.pool.end();
  }
}
