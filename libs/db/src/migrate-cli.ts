#!/usr/bin/env node
// Applies the database migrations; the Helm chart runs `node libs/db/dist/migrate-cli.js deploy`
// as a pre-install/pre-upgrade hook Job so services never migrate lazily at start.
import { DatabaseConfig, loadConfig } from '@capstan/platform';
import { z } from 'zod';
import { MigrationError, migrate, migrationStatus } from './migrations/index.js';

const MigrateConfig = DatabaseConfig.extend({
  MIGRATE_LOCK_TIMEOUT_SECONDS: z.coerce.number().int().positive().default(300),
});

const USAGE = 'usage: migrate-cli.js deploy|status';

async function main(command: string | undefined): Promise<number> {
  if (command !== 'deploy' && command !== 'status') {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig(MigrateConfig);
  const log = (line: string) => {
    console.log(`[migrate] ${line}`);
  };
  if (command === 'status') {
    const plan = await migrationStatus(config.DATABASE_URL);
    for (const name of plan.unknownApplied) log(`applied but not present locally: ${name}`);
    for (const m of plan.pending) log(`pending: ${m.name}`);
    log(plan.pending.length === 0 ? 'database is up to date' : `${plan.pending.length} pending`);
    return 0;
  }
  const result = await migrate(config.DATABASE_URL, {
    lockTimeoutMs: config.MIGRATE_LOCK_TIMEOUT_SECONDS * 1000,
    log,
  });
  log(`done: ${result.applied.length} applied, ${result.alreadyApplied} already applied`);
  return 0;
}

main(process.argv[2]).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // Known failures get their one-line explanation; anything else is a bug and keeps its stack.
    console.error(
      e instanceof MigrationError || (e instanceof Error && e.name === 'ConfigError')
        ? `[migrate] ${e.message}`
        : e,
    );
    process.exitCode = 1;
  },
);
