export {
  DEFAULT_POSTGRES_BIN_DIR,
  PrivatePostgresError,
  startPrivatePostgres,
  type PrivatePostgres,
  type PrivatePostgresOptions,
} from './private-postgres.js';
