import type { LookupAddress } from 'node:dns';
import type { IncomingMessage } from 'node:http';
import { withoutCredentials } from '@capstan/gitops-core';
import {
  readBounded,
  redirectOf,
  requestPinned,
  resolveChecked,
  systemResolver,
  type Resolver,
} from './pinned-http.js';
import { addressProblem, fetchUrlProblem, type UrlFetchPolicy } from './url-guard.js';

export { systemResolver, type Resolver } from './pinned-http.js';

/** Reads a values file from a URL (Flux v1 `valuesFrom[].externalSourceRef`); throws with the reason. */
export interface UrlValuesSource {
  get(url: string): Promise<string>;
}

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
      const res = await requestPinned(parsed, address, deadline).catch((e: unknown) => {
        throw new Error(`GET failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      });
      const next = redirectOf(res, parsed);
      if (next !== undefined) {
        res.resume();
        current = next.toString();
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
    const resolver: Resolver = (h) =>
      this.resolver(h).catch((e: unknown) => {
        throw new Error(`GET failed: cannot resolve ${h}: ${e instanceof Error ? e.message : String(e)}`);
      });
    return resolveChecked(host, resolver, (address) => this.rule(address, denied));
  }

  private body(res: IncomingMessage): Promise<string> {
    return readBounded(
      res,
      this.maxBytes,
      (declared) =>
        new Error(
          `values file is larger than the ${this.maxBytes} bytes allowed${declared === undefined ? '' : ` (${declared} bytes)`}`,
        ),
    ).then(
      (body) => body.toString('utf8'),
      (e: unknown) => {
        if (e instanceof Error && /larger than/.test(e.message)) throw e;
        throw new Error(`GET failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      },
    );
  }
}
