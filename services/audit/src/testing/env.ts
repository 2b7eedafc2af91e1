import { BaseConfig, loadConfig } from '@capstan/platform';

/** The NATS server integration tests use (NATS_URL, default the local one). */
export const testNatsUrl = (): string => loadConfig(BaseConfig.pick({ NATS_URL: true })).NATS_URL;
