import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { logLevels } from '@capstan/platform';
import { AuditModule, type AuditModuleOptions } from './audit.module.js';
import type { AuditConfig } from './config.js';

/** Builds the HTTP app without listening, so tests run the real thing on port 0. */
export async function createAuditApp(
  config: Pick<AuditConfig, 'DATABASE_URL' | 'LOG_LEVEL'>,
  overrides: Omit<AuditModuleOptions, 'databaseUrl'> = {},
): Promise<INestApplication> {
  const app = await NestFactory.create(AuditModule.forRoot({ databaseUrl: config.DATABASE_URL, ...overrides }), {
    logger: logLevels(config.LOG_LEVEL),
  });
  app.enableShutdownHooks();
  return app;
}
