import { type Command } from 'commander';
import { AuditClient, type DecisionEntry } from '../audit-client.js';
import { parseObjectPath, type ObjectPath } from '../object-ref.js';

/** A decision with the parts `why` reads: the image and the evidence behind it. */
export interface WhyDecision extends DecisionEntry {
  image: { repository: string; tag: string; digest?: string | null } | null;
  evidence: Record<string, unknown>;
}

const str = (v: unknown): string =>
  typeof v === 'string' ? v : v === null || v === undefined ? '' : JSON.stringify(v);

/**
 * "Why is this image running?": the chain of one correlation id, oldest first — the registry
 * push, the policy's pick, the commit, the apply. A change nobody automated shows as the commit
 * and its author. Pure.
 */
export function renderWhy(object: ObjectPath, chain: readonly WhyDecision[]): string {
  const name = `${object.namespace}/${object.kind}/${object.name}`;
  if (chain.length === 0) return `No decision about ${name} is recorded.`;
  const steps = [...chain].sort((a, b) => a.seq - b.seq);
  const update = steps.find((d) => d.action === 'image.updated');
  const applied = [...steps].reverse().find((d) => d.action === 'applied');
  const lines: string[] = [];
  const image = update?.image ? `${update.image.repository}:${update.image.tag}` : undefined;
  lines.push(image ? `${name} runs ${image} because:` : `${name} is as it is because:`);
  let n = 0;
  const step = (what: string, text: string) => lines.push(`  ${++n}. ${what.padEnd(8)} ${text}`);
  if (update) {
    const push = update.evidence['push'] as Record<string, unknown> | undefined;
    if (push)
      step(
        'pushed',
        `${str(push['image'])} ${str(push['digest'])} at ${str(push['pushedAt'])}${push['pusher'] ? ` by ${str(push['pusher'])}` : ''}`,
      );
    const candidates = update.evidence['candidates'] as { considered?: number } | undefined;
    step(
      'policy',
      `${str(update.evidence['policy'])}: ${str(update.evidence['why'])}${candidates?.considered !== undefined ? ` (${candidates.considered} tag(s) known)` : ''}`,
    );
    if (update.source)
      step(
        'commit',
        `${update.source.revision} "${update.source.commitMessage.split('\n')[0] ?? ''}" by ${update.actor.name}`,
      );
  }
  for (const skipped of steps.filter((d) => d.action === 'skipped'))
    step('skipped', `${skipped.targets.map((t) => `${t.kind}/${t.name}`).join(', ')}: ${skipped.message}`);
  if (applied) {
    if (!update && applied.source)
      step(
        'commit',
        `${applied.source.revision} "${applied.source.commitMessage.split('\n')[0] ?? ''}" by ${applied.actor.name}`,
      );
    step(
      'applied',
      `${applied.decidedBy.kind} ${applied.decidedBy.namespace}/${applied.decidedBy.name} at ${applied.time}: ${applied.message}`,
    );
  }
  lines.push(`  correlation id: ${(update ?? applied ?? steps[0])?.correlationId ?? '-'}`);
  return lines.join('\n');
}

export function registerWhy(
  cmd: Command,
  out: (s: string) => void,
  settings: { server: string; token?: string },
): void {
  cmd
    .command('why')
    .description('why is this image running? the push, the policy decision, the commit and the apply')
    .argument('<object>', '<namespace>/<kind>/<name>')
    .option('--server <url>', 'audit API base URL', settings.server)
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (o: string, opts: { server: string; output: string }) => {
      const object = parseObjectPath(o);
      const client = new AuditClient(opts.server, settings.token);
      const about = (
        await client.decisions({
          namespace: object.namespace,
          kind: object.kind,
          name: object.name,
          limit: '50',
        })
      ).items as WhyDecision[];
      const last = about.find((d) => d.action === 'applied' || d.action === 'image.updated');
      const chain = last?.correlationId
        ? ((await client.decisions({ correlationId: last.correlationId, limit: '100' }))
            .items as WhyDecision[])
        : last
          ? [last]
          : [];
      out(opts.output === 'json' ? JSON.stringify(chain, null, 2) : renderWhy(object, chain));
    });
}
