export {
  createTestDatabase,
  databaseUrl,
  type TestDatabase,
  type TestDatabaseOptions,
} from './test-database.js';
export { testDatabaseServerUrl } from './env.js';
