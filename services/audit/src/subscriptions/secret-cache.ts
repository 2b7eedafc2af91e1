import type { Clock } from '@capstan/platform';

/** Reads HMAC keys through `read` and reuses them briefly, so a burst of deliveries reads a Secret once. */
export class SecretCache {
  private readonly entries = new Map<string, { value: string | null; until: number }>();

  constructor(
    private readonly read: (namespace: string, name: string) => Promise<string | null>,
    private readonly clock: Clock,
    private readonly ttlMs = 30_000,
  ) {}

  async token(namespace: string, name: string): Promise<string | null> {
    const key = `${namespace}/${name}`;
    const now = this.clock.now().getTime();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.value;
    const value = await this.read(namespace, name);
    this.entries.set(key, { value, until: now + this.ttlMs });
    return value;
  }

  forget(namespace: string, name: string): void {
    this.entries.delete(`${namespace}/${name}`);
  }
}
