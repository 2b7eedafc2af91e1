import { loadConfig } from '@capstan/platform';
import { z } from 'zod';

const ScratchEnv = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .default('postgresql://postgres@127.0.0.1:5432/postgres'),
});

/** The Postgres server this package's own tests create scratch databases on. */
export const scratchServerUrl = (): string => loadConfig(ScratchEnv).DATABASE_URL;
