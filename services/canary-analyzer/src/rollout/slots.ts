/**
 * At most `size` of something at once, the rest waiting in arrival order. The analyzer's writes
 * to the API server after 100 Canaries decide in the same second (a route and a status each)
 * were 200 requests at once: 200 TLS connections opened (the client keeps no limit), held for
 * the burst and closed after it, every interval. The API server answers them no faster for
 * being asked all at once.
 */
export class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}
