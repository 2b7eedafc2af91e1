import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';

/** Resolves a name to every address it has (dns.lookup with `all`). */
export type Resolver = (host: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) =>
    dnsLookup(host, { all: true }, (e, addresses) => (e ? reject(e) : resolve(addresses))),
  );

/** A name resolved to an address the rule refuses: terminal, the message says which and why. */
export class AddressRefusedError extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
    readonly problem: string,
  ) {
    super(isIP(host) ? `${host} is ${problem}` : `${host} resolves to ${address}, ${problem}`);
    this.name = 'AddressRefusedError';
  }
}

/**
 * Resolves `host` once and checks every address it has: one refused address refuses the name
 * (a name answering both a public address and 127.0.0.1 is a rebinding attempt). Returns the
 * address to connect to, which `requestPinned` then uses without asking DNS again.
 */
export async function resolveChecked(
  host: string,
  resolver: Resolver,
  rule: (address: string) => string | undefined,
): Promise<LookupAddress> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(bare);
  const addresses = family !== 0 ? [{ address: bare, family }] : await resolver(bare);
  for (const a of addresses) {
    const problem = rule(a.address);
    if (problem !== undefined) throw new AddressRefusedError(bare, a.address, problem);
  }
  const first = addresses[0];
  if (!first) throw new Error(`${bare} has no address`);
  return first;
}

/**
 * GET of `url` connected to `address`, whatever DNS says now: the check and the connection see
 * the same address, so a second DNS answer cannot swap in another (DNS rebinding). TLS still
 * verifies the certificate against the URL's host name.
 */
export function requestPinned(
  url: URL,
  address: LookupAddress,
  signal: AbortSignal,
  headers: Record<string, string> = { accept: '*/*' },
): Promise<IncomingMessage> {
  const lookup: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all)
      (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, [address]);
    else callback(null, address.address, address.family);
  };
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', lookup, signal, headers }, resolve);
    req.on('error', reject);
    req.end();
  });
}

/** The redirect target of an answer, or undefined when it is not a redirect. */
export function redirectOf(res: IncomingMessage, from: URL): URL | undefined {
  const location = res.headers.location;
  if (res.statusCode === undefined || res.statusCode < 300 || res.statusCode >= 400 || !location)
    return undefined;
  return new URL(location, from);
}

/**
 * An answer's body, up to `max` bytes: a declared length over it is refused before reading, and
 * reading stops (the connection is dropped) the moment the count passes it, so an answer that
 * never ends costs `max` bytes of memory at most.
 */
export function readBounded(
  res: IncomingMessage,
  max: number,
  tooLarge: (declared?: number) => Error,
): Promise<Buffer> {
  const declared = Number(res.headers['content-length'] ?? NaN);
  if (declared > max) {
    res.destroy();
    return Promise.reject(tooLarge(declared));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > max) {
        res.destroy();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}
