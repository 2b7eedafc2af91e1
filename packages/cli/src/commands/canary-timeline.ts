import type { DecisionEntry } from '../audit-client.js';

/** The Canary status fields `canary get` shows (Flagger's plus Capstan's judge). */
export interface CanaryStatusView {
  phase?: string;
  canaryWeight?: number;
  failedChecks?: number;
  inconclusiveChecks?: number;
  iterations?: number;
  lastVerdict?: string;
  paused?: boolean;
  lastTransitionTime?: string;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

interface MetricEvidence {
  metric: string;
  canary: number | null;
  primary?: number | null;
  threshold: { min?: number; max?: number };
  verdict: string;
  reason: string;
  statistic?: { pValue?: number };
}
interface HookEvidence {
  name: string;
  status?: number;
  ok: boolean;
  message: string;
}

/** One line per Canary: phase, weight, checks, last verdict, what it says. Pure. */
export function renderCanaryGet(namespace: string, name: string, s: CanaryStatusView): string {
  const promoted = s.conditions?.find((c) => c.type === 'Promoted');
  const rows = [
    ['NAMESPACE', 'NAME', 'PHASE', 'WEIGHT', 'FAILED', 'INCONCLUSIVE', 'VERDICT', 'MESSAGE'],
    [
      namespace,
      name,
      `${s.phase ?? 'Unknown'}${s.paused ? ' (paused)' : ''}`,
      `${s.canaryWeight ?? 0}%`,
      String(s.failedChecks ?? 0),
      String(s.inconclusiveChecks ?? 0),
      s.lastVerdict ?? '-',
      promoted?.message ?? '',
    ],
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  '))
    .join('\n');
}

/** A live progress line for `canary watch`: `Progressing [#####.....] 25% checks 0 failed`. */
export function renderProgress(s: CanaryStatusView, width = 20): string {
  const w = Math.max(0, Math.min(100, s.canaryWeight ?? 0));
  const filled = Math.round((w / 100) * width);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
  return `${(s.phase ?? 'Unknown').padEnd(16)} [${bar}] ${String(w).padStart(3)}%  failed ${s.failedChecks ?? 0}  verdict ${s.lastVerdict ?? '-'}`;
}

const fmt = (v: number | null | undefined) =>
  v === null || v === undefined ? 'no data' : String(Math.round(v * 100) / 100);

function thresholdText(t: { min?: number; max?: number }): string {
  if (t.min !== undefined && t.max !== undefined) return `in [${t.min}, ${t.max}]`;
  if (t.min !== undefined) return `>= ${t.min}`;
  if (t.max !== undefined) return `<= ${t.max}`;
  return '';
}

/**
 * The rollout as a timeline from its audited decisions, oldest first: each step with the weight
 * before and after, every metric's value against its threshold (and the primary's, with the test
 * statistic), the webhooks' answers and who decided. Pure.
 */
export function renderCanaryTimeline(
  namespace: string,
  name: string,
  decisions: readonly DecisionEntry[],
): string {
  if (decisions.length === 0) return `No decision about Canary ${namespace}/${name} is recorded.`;
  const lines = [`Canary ${namespace}/${name}`];
  for (const d of [...decisions].sort((a, b) => a.seq - b.seq)) {
    const ev = d.evidence ?? {};
    const weight = ev['weight'] as { before: number; after: number } | undefined;
    const w = weight
      ? weight.before === weight.after
        ? ` @${weight.after}%`
        : ` ${weight.before}% -> ${weight.after}%`
      : '';
    const who = d.actor.kind === 'person' ? ` by ${d.actor.name}` : '';
    lines.push(`${d.time}  ${d.action.padEnd(20)} ${d.reason}${w}${who}`);
    lines.push(`    ${d.message}`);
    const check = ev['check'] as
      { verdict: string; metrics?: MetricEvidence[]; webhooks?: HookEvidence[] } | undefined;
    for (const m of check?.metrics ?? []) {
      const primary = m.primary !== undefined ? `, primary ${fmt(m.primary)}` : '';
      const p = m.statistic?.pValue !== undefined ? `, p=${m.statistic.pValue}` : '';
      lines.push(
        `    ${m.verdict.padEnd(12)} ${m.metric} ${fmt(m.canary)} ${thresholdText(m.threshold)}${primary}${p} (${m.reason})`,
      );
    }
    for (const h of check?.webhooks ?? (ev['webhooks'] as HookEvidence[] | undefined) ?? [])
      lines.push(
        `    ${(h.ok ? 'ok' : 'failed').padEnd(12)} webhook ${h.name} ${h.status ?? 'no answer'} ${h.message.trim().slice(0, 80)}`,
      );
  }
  return lines.join('\n');
}
