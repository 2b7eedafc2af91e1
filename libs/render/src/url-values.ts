import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { withoutCredentials } from '@capstan/gitops-core';
import { addressProblem, fetchUrlProblem, type UrlFetchPolicy } from './url-guard.js';

/** Reads a values file from a URL (Flux v1 `valuesFrom[].externalSourceRef`); throws with the reason. */
export interface UrlValuesSource {
  get(url: string): Promise<string>;
}

/** Resolves a name to every address it has (dns.lookup with `all`). */
export type Resolver = (host: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) =>
    dnsLookup(host, { all: true }, (e, addresses) => (e ? reject(e) : resolve(addresses))),
  );

export interface GuardedUrlValuesOptions {
  policy: UrlFetchPolicy;
  maxBytes?: number;
  timeoutMs?: number;
  resolver?: Resolver;
  /** Why an address is refused; the default refuses loopback, link-local and the API server's. */
  addressRule?: (address: string, denied: readonly string[]) => string | undefined;
  maxRedirects?: number;
}

/**
 * HTTP(S) GET of a URL a manifest names, guarded: the host must be on the allow-list, every
 * address the name resolves to is checked and the connection is pinned to a checked address
 * (a second DNS answer cannot swap in 127.0.0.1), redirects are followed by hand and checked the
 * same way, and the answer is bounded in size and time so it cannot exhaust the reconciler.
 */
export class GuardedUrlValues implements UrlValuesSource {
  private readonly maxBytes: number;
  private readonly timeoutMs: number;
  private readonly resolver: Resolver;
  private readonly rule: NonNullable<GuardedUrlValuesOptions['addressRule']>;

  constructor(private readonly options: GuardedUrlValuesOptions) {
    this.maxBytes = options.maxBytes ?? 1024 * 1024;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.resolver = options.resolver ?? systemResolver;
    this.rule = options.addressRule ?? addressProblem;
  }

  async get(url: string): Promise<string> {
    const deadline = AbortSignal.timeout(this.timeoutMs);
    let current = url;
    for (let hop = 0; hop <= (this.options.maxRedirects ?? 5); hop++) {
      const problem = fetchUrlProblem(current, this.options.policy);
      if (problem !== undefined)
        throw new Error(hop === 0 ? problem : `redirected to ${withoutCredentials(current)}: ${problem}`);
      const parsed = new URL(current);
      const address = await this.checkedAddress(parsed.hostname.replace(/^\[(.*)\]$/, '$1')).catch(
        (e: unknown) => {
          if (hop === 0 || !(e instanceof Error)) throw e;
          throw new Error(`redirected to ${withoutCredentials(current)}: ${e.message}`);
        },
      );
      const res = await this.send(parsed, address, deadline);
      const location = res.headers.location;
      if (res.statusCode !== undefined && res.statusCode >= 300 && res.statusCode < 400 && location) {
        res.resume();
        current = new URL(location, parsed).toString();
        continue;
      }
      if (res.statusCode === undefined || res.statusCode < 200 || res.statusCode >= 300) {
        res.resume();
        throw new Error(`GET returned ${res.statusCode ?? '?'} ${res.statusMessage ?? ''}`.trim());
      }
      return await this.body(res);
    }
    throw new Error(`more than ${this.options.maxRedirects ?? 5} redirects`);
  }

  /** One address of `host` that passes the rule; any refused address refuses the name. */
  private async checkedAddress(host: string): Promise<LookupAddress> {
    const denied: string[] = [];
    for (const name of this.options.policy.deniedHosts ?? [])
      denied.push(...(await this.resolver(name).catch(() => [])).map((a) => a.address));
    let addresses: LookupAddress[];
    try {
      addresses = await this.resolver(host);
    } catch (e) {
      throw new Error(`GET failed: cannot resolve ${host}: ${e instanceof Error ? e.message : String(e)}`);
    }
    for (const a of addresses) {
      const problem = this.rule(a.address, denied);
      if (problem !== undefined)
        throw new Error(
          isIP(host) ? `${host} is ${problem}` : `${host} resolves to ${a.address}, ${problem}`,
        );
    }
    const first = addresses[0];
    if (!first) throw new Error(`GET failed: ${host} has no address`);
    return first;
  }

  private send(url: URL, address: LookupAddress, signal: AbortSignal): Promise<IncomingMessage> {
    // The connection goes to the address that was checked, whatever DNS says a moment later.
    const lookup: LookupFunction = (_host, options, callback) => {
      if ((options as { all?: boolean }).all)
        (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, [address]);
      else callback(null, address.address, address.family);
    };
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(url, { method: 'GET', lookup, signal, headers: { accept: '*/*' } }, resolve);
      req.on('error', (e) => reject(new Error(`GET failed: ${e.message}`, { cause: e })));
      req.end();
    });
  }

  private body(res: IncomingMessage): Promise<string> {
    const declared = Number(res.headers['content-length'] ?? NaN);
    if (declared > this.maxBytes) {
      res.destroy();
      return Promise.reject(
        new Error(`values file is larger than the ${this.maxBytes} bytes allowed (${declared} bytes)`),
      );
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > this.maxBytes) {
          res.destroy();
          reject(new Error(`values file is larger than the ${this.maxBytes} bytes allowed`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', (e) => reject(new Error(`GET failed: ${e.message}`, { cause: e })));
    });
  }
}
