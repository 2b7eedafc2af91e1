import { api, type Decision } from './api.js';
import { decisionDetail } from './decision-detail.js';
import { badge, h, replace, shortRevision, time } from './dom.js';
import type { Page } from './page.js';

type Step = Decision & { step: number };

/** What a step did, in a phrase: "image pushed → commit", "applied 3 objects"... */
function stepSummary(s: Step): string {
  const objects = s.targets.length;
  const what = s.image?.repository
    ? `${s.image.repository}:${s.image.tag ?? ''}`
    : shortRevision(s.source?.revision);
  return `${s.action} ${objects > 0 ? `${objects} object${objects === 1 ? '' : 's'} ` : ''}from ${what}`;
}

/** One deploy (one correlation id), step by step: from push (or image push) to applied. */
export const deployPage: Page = (main, route) => {
  const id = decodeURIComponent(route.path[1] ?? '');
  const steps = h('ol', { class: 'steps', 'aria-label': 'Steps of the deploy' });
  const detail = h('div', { class: 'detail' });
  replace(main, h('h1', {}, 'Deploy'), h('p', { class: 'mono' }, id), steps, detail);
  api
    .get<{ correlationId: string; steps: Step[] }>(`/api/v1/timeline/${encodeURIComponent(id)}`)
    .then(({ steps: all }) => {
      if (all.length === 0) {
        replace(steps, h('li', {}, 'No decision of this deploy is visible to you.'));
        return;
      }
      replace(
        steps,
        ...all.map((s) =>
          h(
            'li',
            { class: `step outcome-${s.outcome}` },
            h(
              'button',
              { type: 'button', class: 'step-button', onclick: () => replace(detail, decisionDetail(s)) },
              h('span', { class: 'step-number' }, `Step ${s.step}`),
              ' ',
              h('strong', {}, stepSummary(s)),
              ' ',
              badge(s.outcome, s.outcome === 'failed' ? 'bad' : 'ok'),
            ),
            h(
              'div',
              { class: 'step-meta' },
              time(s.time),
              ` · ${s.decidedBy.kind} ${s.decidedBy.namespace}/${s.decidedBy.name} · ${s.actor.name} (${s.actor.evidence})`,
            ),
          ),
        ),
      );
      const last = all.at(-1);
      if (last) replace(detail, decisionDetail(last));
    })
    .catch((e: unknown) =>
      replace(
        steps,
        h(
          'li',
          { role: 'alert' },
          `Could not load the deploy: ${e instanceof Error ? e.message : String(e)}`,
        ),
      ),
    );
  return undefined;
};
