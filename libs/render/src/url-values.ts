/** Reads a values file from a URL (Flux v1 `valuesFrom[].externalSourceRef`); throws with the reason. */
export interface UrlValuesSource {
  get(url: string): Promise<string>;
}

/**
 * Plain HTTP(S) GET, bounded in size and time: the URL comes from a manifest in Git, so a huge
 * or endless answer must not exhaust the reconciler's memory or stall a worker.
 */
export class HttpUrlValues implements UrlValuesSource {
  constructor(
    private readonly maxBytes = 1024 * 1024,
    private readonly timeoutMs = 30_000,
  ) {}

  async get(url: string): Promise<string> {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new Error(`only http(s) URLs are read, not ${parsed.protocol}`);
    const res = await fetch(parsed, { signal: AbortSignal.timeout(this.timeoutMs), redirect: 'follow' });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`GET returned ${res.status} ${res.statusText}`.trim());
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > this.maxBytes) {
      await res.body?.cancel();
      throw new Error(`values file is larger than the ${this.maxBytes} bytes allowed (${declared} bytes)`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    // undici types the body as ReadableStream<any>; fetch bodies are bytes.
    const reader = (res.body as ReadableStream<Uint8Array> | null)?.getReader();
    for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
      size += read.value.byteLength;
      if (size > this.maxBytes) {
        await reader?.cancel();
        throw new Error(`values file is larger than the ${this.maxBytes} bytes allowed`);
      }
      chunks.push(read.value);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}

/** Credentials in URLs never reach statuses or decisions. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^/@]+@/, '//***@');
}
