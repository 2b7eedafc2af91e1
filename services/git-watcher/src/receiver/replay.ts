import { createHash } from 'node:crypto';

/**
 * Replay refusal for push webhooks, as plain functions. A webhook only asks for a poll, but a
 * captured delivery replayed in a loop would make the watcher fetch forever; and GitHub's
 * delivery id is not covered by its signature, so an attacker could change it freely. What the
 * signature does cover is the body: the same signed body twice at the same Receiver is a replay,
 * whatever the headers say. A sender that signs a timestamp (generic receivers) is also held to a
 * time window, so a replay older than the ledger's memory is refused too.
 */
export function deliveryKey(namespace: string, name: string, rawBody: Buffer): string {
  // KV keys allow [-/_=.a-zA-Z0-9]; the receiver's identity is hashed in with the body.
  return createHash('sha256').update(`${namespace}/${name}\n`).update(rawBody).digest('hex');
}

export type Freshness = { fresh: true } | { fresh: false; reason: string };

/** A signed timestamp must be within `toleranceMs` of now, either way (clocks drift both ways). */
export function checkFreshness(signedAt: number | undefined, nowMs: number, toleranceMs: number): Freshness {
  if (signedAt === undefined) return { fresh: true };
  const skew = nowMs - signedAt;
  if (Math.abs(skew) <= toleranceMs) return { fresh: true };
  return {
    fresh: false,
    reason: `X-Capstan-Timestamp is ${Math.round(skew / 1000)}s ${skew > 0 ? 'old' : 'in the future'}, outside the ${Math.round(toleranceMs / 1000)}s window`,
  };
}

/**
 * Only targets in the Receiver's own namespace may be triggered (unless the installation allows
 * cross-namespace references): a Receiver is writable by a tenant, a GitRepository elsewhere is
 * someone else's.
 */
export function splitTargets(
  namespace: string,
  resources: readonly { name: string; namespace?: string }[],
  allowCrossNamespace: boolean,
): { allowed: { namespace: string; name: string }[]; refused: string[] } {
  const allowed: { namespace: string; name: string }[] = [];
  const refused: string[] = [];
  for (const r of resources) {
    const ns = r.namespace ?? namespace;
    if (ns === namespace || allowCrossNamespace) allowed.push({ namespace: ns, name: r.name });
    else refused.push(`${ns}/${r.name}`);
  }
  return { allowed, refused };
}
