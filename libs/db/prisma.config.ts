// Prisma CLI configuration (a config file, so it may read the environment). We apply migrations
// with our own runner (src/migrations), but keep the layout Prisma's so `prisma migrate deploy`
// and `prisma migrate status` work against the same folder in production.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  // Only migrate/introspect commands need it; `prisma generate` runs without a database.
  datasource: { url: process.env['DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/capstan' },
});
