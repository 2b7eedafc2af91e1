import 'reflect-metadata';
import type { Server } from 'node:http';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import { logLevels, type BaseConfig } from './config.js';

export interface StartOptions {
  /** Keep each request's raw body as `req.rawBody` (for webhook signatures). */
  rawBody?: boolean;
}

export interface StartedService {
  app: INestApplication;
  /** The HTTP port actually bound (tests pass port 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * Starts a Capstan service: the HTTP server (health, metrics, APIs) and, when given, the
 * JetStream transport. Shutdown hooks are on so SIGTERM drains consumers before exit.
 */
export async function startService(
  module: unknown,
  config: Pick<BaseConfig, 'HTTP_PORT' | 'HTTP_HOST' | 'LOG_LEVEL'>,
  transport?: CustomTransportStrategy,
  /** Runs before the server listens: routes added after that sit behind Nest's 404 handler. */
  configure?: (app: INestApplication) => void,
  options: StartOptions = {},
): Promise<StartedService> {
  const app = await NestFactory.create(module as never, {
    logger: logLevels(config.LOG_LEVEL),
    bufferLogs: false,
    ...(options.rawBody ? { rawBody: true } : {}),
  });
  app.enableShutdownHooks();
  if (transport) app.connectMicroservice({ strategy: transport }, { inheritAppConfig: true });
  configure?.(app);
  await app.startAllMicroservices();
  await app.listen(config.HTTP_PORT, config.HTTP_HOST);
  const address = (app.getHttpServer() as Server).address();
  const port = typeof address === 'object' && address ? address.port : config.HTTP_PORT;
  return { app, port, close: () => app.close() };
}
