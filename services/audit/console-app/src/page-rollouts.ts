import { api, ApiError, query, type Decision, type OverviewItem, type Page as ApiPage } from './api.js';
import { badge, h, replace, time } from './dom.js';
import { onDecisions } from './live.js';
import type { Page } from './page.js';

/** A metric judgement as the canary-analyzer records it in a decision's `evidence.check.metrics`. */
interface MetricJudgement {
  metric: string;
  verdict: string;
  reason?: string;
  canary: number | null;
  primary?: number | null;
  threshold: { min?: number; max?: number };
}

interface CheckEvidence {
  stage?: string;
  verdict?: string;
  metrics?: MetricJudgement[];
}

const VERBS = ['promote', 'abort', 'retry', 'pause', 'resume'] as const;
const LABELS: Record<(typeof VERBS)[number], string> = {
  promote: 'Promote',
  abort: 'Abort',
  retry: 'Retry',
  pause: 'Pause',
  resume: 'Resume',
};

const num = (v: number | null | undefined): string =>
  typeof v === 'number' ? String(Math.round(v * 1000) / 1000) : '–';

function thresholdText(t: MetricJudgement['threshold']): string {
  if (t.min !== undefined && t.max !== undefined) return `${t.min} – ${t.max}`;
  if (t.min !== undefined) return `≥ ${t.min}`;
  if (t.max !== undefined) return `≤ ${t.max}`;
  return '–';
}

/** Each metric's value against its threshold, and its verdict. */
function checksTable(check: CheckEvidence | undefined): HTMLElement | null {
  const metrics = check?.metrics ?? [];
  if (metrics.length === 0) return null;
  return h(
    'table',
    { class: 'checks', 'aria-label': 'Metric checks' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['Metric', 'Canary', 'Primary', 'Threshold', 'Verdict'].map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    h(
      'tbody',
      {},
      ...metrics.map((m) =>
        h(
          'tr',
          {},
          h('td', {}, m.metric),
          h('td', {}, num(m.canary)),
          h('td', {}, num(m.primary)),
          h('td', {}, thresholdText(m.threshold)),
          h(
            'td',
            { title: m.reason ?? '' },
            m.verdict === 'Pass' ? badge('pass', 'ok') : badge(m.verdict.toLowerCase(), 'bad'),
          ),
        ),
      ),
    ),
  );
}

function weightBar(weight: number | null | undefined, label: string): (HTMLElement | string)[] {
  if (typeof weight !== 'number') return [];
  return [
    ' ',
    h('progress', { max: 100, value: weight, 'aria-label': `${label} ${weight}%` }),
    ` ${weight}%`,
  ];
}

/**
 * People's commands on a Canary through the audit API (POST /api/v1/canaries/<ns>/<name>/<verb>,
 * which checks RBAC `patch` on the Canary and records the person as the decision's actor).
 */
function commands(c: OverviewItem): HTMLElement {
  const result = h('p', { class: 'command-result', role: 'status', 'aria-live': 'polite' });
  const buttons = VERBS.map((verb) => {
    const b = h('button', { type: 'button', class: 'secondary' }, LABELS[verb]);
    b.setAttribute('aria-label', `${verb} ${c.namespace}/${c.name}`);
    b.addEventListener('click', () => {
      for (const x of buttons) x.disabled = true;
      result.textContent = `${verb}…`;
      api
        .post<{ phase: string; message: string }>(
          `/api/v1/canaries/${encodeURIComponent(c.namespace)}/${encodeURIComponent(c.name)}/${verb}${query({ group: c.apiGroup })}`,
        )
        .then((r) => (result.textContent = `${verb}: ${r.phase}. ${r.message}`))
        .catch(
          (e: unknown) =>
            (result.textContent = `${verb} refused: ${e instanceof ApiError ? `${e.status} ${e.message}` : String(e)}`),
        )
        .finally(() => {
          for (const x of buttons) x.disabled = false;
        });
    });
    return b;
  });
  return h('div', { class: 'commands' }, h('div', { class: 'buttons' }, ...buttons), result);
}

/**
 * Canaries (capstan.dev and flagger.app): their state and traffic weight from the cluster, the
 * promote / abort / retry / pause / resume commands, and their steps from the audit log (the
 * weight before and after, each metric against its threshold, the verdicts).
 */
export const rolloutsPage: Page = (main) => {
  const canaries = h('section', { 'aria-label': 'Canaries' });
  const steps = h('section', { 'aria-label': 'Canary decisions' });
  replace(main, h('h1', {}, 'Rollouts'), canaries, h('h2', {}, 'Latest canary decisions'), steps);
  // The last lists drawn: redrawn only when they changed, so a focused button keeps its focus.
  let shown = '';
  let shownSteps = '';
  let known: OverviewItem[] = [];
  const loadCanaries = async () => {
    const { items } = await api.get<{ items: OverviewItem[] }>('/api/v1/overview?kind=Canary');
    known = items;
    const now = JSON.stringify(items);
    if (now === shown) return;
    shown = now;
    replace(
      canaries,
      items.length === 0
        ? h('p', {}, 'No Canary objects in the namespaces you may read.')
        : h(
            'ul',
            { class: 'cards' },
            ...items.map((c) =>
              h(
                'li',
                { class: 'card', 'data-canary': `${c.namespace}/${c.name}` },
                h('h3', {}, `${c.namespace}/${c.name}`),
                c.ready === 'True'
                  ? badge(c.reason || 'Ready', 'ok')
                  : badge(c.reason || c.ready, c.ready === 'False' ? 'bad' : 'unknown'),
                ...weightBar(c.weight, 'canary weight'),
                h('p', {}, c.message),
                c.lastDecision
                  ? h(
                      'p',
                      {},
                      `${c.lastDecision.action} `,
                      time(c.lastDecision.time),
                      ` by ${c.lastDecision.actor.name}`,
                    )
                  : null,
                commands(c),
              ),
            ),
          ),
    );
  };
  const loadSteps = async () => {
    const canary = await canaryDecisions(known);
    const now = JSON.stringify(canary.map((d) => d.seq));
    if (now === shownSteps) return;
    shownSteps = now;
    replace(
      steps,
      canary.length === 0
        ? h('p', {}, 'No canary decisions recorded yet.')
        : h(
            'ol',
            { class: 'steps' },
            ...canary.map((d) => {
              const weight = d.evidence['weight'] as { before?: number; after?: number } | undefined;
              const check = d.evidence['check'] as CheckEvidence | undefined;
              return h(
                'li',
                { class: `step outcome-${d.outcome}` },
                h('strong', {}, `${d.decidedBy.namespace}/${d.decidedBy.name} ${d.action}`),
                ' ',
                badge(d.outcome, d.outcome === 'failed' ? 'bad' : 'ok'),
                ...weightBar(weight?.after, 'weight'),
                typeof weight?.before === 'number' && weight.before !== weight.after
                  ? ` (from ${weight.before}%)`
                  : '',
                h(
                  'div',
                  { class: 'step-meta' },
                  time(d.time),
                  ` · ${d.actor.name} · ${d.reason}: ${d.message}`,
                ),
                checksTable(check),
              );
            }),
          ),
    );
  };
  const load = async () => {
    await loadCanaries();
    await loadSteps();
  };
  void load().catch((e: unknown) =>
    replace(steps, h('p', { role: 'alert' }, `Could not load rollouts: ${String(e)}`)),
  );
  const stop = onDecisions(() => void load().catch(() => undefined));
  // A Canary's status moves between decisions too (its analysis, a paused or waiting rollout):
  // read it from the cluster every few seconds while the page is open, skipped while hidden.
  const watch = window.setInterval(() => {
    if (document.visibilityState === 'visible') void loadCanaries().catch(() => undefined);
  }, CANARY_REFRESH_MS);
  return () => {
    stop();
    window.clearInterval(watch);
  };
};

/**
 * The newest decisions of the Canaries shown, newest first: asked Canary by Canary (the API's
 * `canary=` filter), which needs read access in that Canary's namespace only, so a person
 * limited to some namespaces sees their rollouts' steps as a cluster-wide reader does; and a
 * busy log of other decisions does not push the canary steps out of a page.
 */
async function canaryDecisions(items: readonly OverviewItem[]): Promise<Decision[]> {
  const pages = await Promise.all(
    items
      .slice(0, MAX_CANARIES_ASKED)
      .map((c) =>
        api.get<ApiPage<Decision>>(
          `/api/v1/decisions${query({ canary: `${c.namespace}/${c.name}`, limit: DECISIONS_PER_CANARY })}`,
        ),
      ),
  );
  // A Flagger and a Capstan Canary of the same name share their decisions: each once.
  const bySeq = new Map(pages.flatMap((p) => p.items).map((d) => [d.seq, d]));
  return [...bySeq.values()].sort((a, b) => b.seq - a.seq).slice(0, MAX_STEPS_SHOWN);
}

const MAX_CANARIES_ASKED = 50;
const DECISIONS_PER_CANARY = 50;
const MAX_STEPS_SHOWN = 200;
const CANARY_REFRESH_MS = 5_000;
