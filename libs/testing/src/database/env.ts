import { loadConfig } from '@capstan/platform';
import { z } from 'zod';

const TestDatabaseEnv = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .default('postgresql://postgres@127.0.0.1:5432/postgres'),
});

/** The server test databases are created on; only its host, port and credentials matter. */
export function testDatabaseServerUrl(env: NodeJS.ProcessEnv = process.env): string {
  return loadConfig(TestDatabaseEnv, env).DATABASE_URL;
}
