import {
  Inject,
  Injectable,
  type OnApplicationShutdown,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common';
import { createPrismaClient, type PrismaClient } from '@capstan/db';
import { Readiness } from '@capstan/platform';

export const PRISMA = Symbol('PrismaClient');

export const prismaProvider = (databaseUrl: string): Provider => ({
  provide: PRISMA,
  useFactory: () => createPrismaClient(databaseUrl, { applicationName: 'capstan-audit' }),
});

/** Ties the client to the app: /readyz asks the database, shutdown closes the pool. */
@Injectable()
export class DatabaseLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    private readonly readiness: Readiness,
  ) {}

  onModuleInit(): void {
    this.readiness.register('database', async () => {
      await this.prisma.$queryRaw`SELECT 1`;
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.prisma.$disconnect();
  }
}
