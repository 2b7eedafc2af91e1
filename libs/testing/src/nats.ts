import { randomBytes } from 'node:crypto';

/** The NATS server tests use: NATS_URL, or the machine's JetStream on 127.0.0.1. */
export function testNatsUrl(): string {
  return process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
}

/** A private stream/subject prefix, so tests running at once never see each other's events. */
export function testEventPrefix(): string {
  return `t${randomBytes(4).toString('hex')}`;
}
