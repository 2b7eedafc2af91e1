/** Base of every error the migration runner raises, so the CLI can tell them from bugs. */
export class MigrationError extends Error {
  constructor(
    message: string,
    readonly migrationName?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** An applied migration's file no longer matches what was applied: history was edited. */
export class MigrationChecksumMismatchError extends MigrationError {
  constructor(
    migrationName: string,
    readonly appliedChecksum: string,
    readonly fileChecksum: string,
  ) {
    super(
      `migration ${migrationName} was modified after it was applied ` +
        `(applied checksum ${appliedChecksum}, file checksum ${fileChecksum}); ` +
        `restore the original file and put the change in a new migration`,
      migrationName,
    );
  }
}

/** A previous attempt failed half-way; Prisma calls this P3009 and so do we: a human must look. */
export class FailedMigrationPendingError extends MigrationError {
  constructor(
    migrationName: string,
    readonly logs: string | null,
  ) {
    super(
      `migration ${migrationName} failed in an earlier run and was never resolved` +
        (logs ? ` (${logs.split('\n')[0] ?? ''})` : '') +
        `; fix the database, then mark it with \`prisma migrate resolve --rolled-back ${migrationName}\` ` +
        `or \`--applied ${migrationName}\``,
      migrationName,
    );
  }
}

/** Applying a migration's SQL failed now; its row is left failed, exactly as Prisma leaves it. */
export class MigrationFailedError extends MigrationError {
  constructor(
    migrationName: string,
    override readonly cause: unknown,
  ) {
    super(
      `migration ${migrationName} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      migrationName,
    );
  }
}

export class MigrationLockTimeoutError extends MigrationError {
  constructor(readonly waitedMs: number) {
    super(`timed out after ${waitedMs} ms waiting for the migration lock; another migrator is still running`);
  }
}

export class MigrationsFolderError extends MigrationError {}
