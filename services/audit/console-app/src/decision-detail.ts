import type { Decision } from './api.js';
import { badge, h, link, time } from './dom.js';

const MARK: Record<string, string> = {
  created: '+',
  configured: '~',
  deleted: '-',
  unchanged: '=',
  skipped: '!',
  failed: '✗',
};

/**
 * The change set as a diff: one line per object, `+` created, `~` configured, `-` deleted,
 * `=` unchanged; with the API server's message for skipped and failed ones.
 */
export function changeSetDiff(d: Decision): HTMLElement {
  if (d.changeSet.length === 0) return h('p', {}, 'No objects changed.');
  return h(
    'pre',
    { class: 'diff', 'aria-label': 'Change set' },
    ...d.changeSet.map((c) => {
      const action = typeof c['action'] === 'string' ? c['action'] : 'changed';
      const ns = typeof c['namespace'] === 'string' && c['namespace'] ? `${c['namespace']}/` : '';
      const message = typeof c['message'] === 'string' ? `  # ${c['message']}` : '';
      return h(
        'span',
        { class: `diff-line diff-${action}` },
        `${MARK[action] ?? '?'} ${String(c['kind'])} ${ns}${String(c['name'])} (${action})${message}\n`,
      );
    }),
  );
}

/** Text diffs in the evidence (unified format) coloured by line; anything else as JSON. */
function evidenceView(evidence: Record<string, unknown>): HTMLElement {
  const parts: HTMLElement[] = [];
  for (const [key, value] of Object.entries(evidence)) {
    if (typeof value === 'string' && /^(---|\+\+\+|@@)/m.test(value)) {
      parts.push(
        h('h4', {}, key),
        h(
          'pre',
          { class: 'diff' },
          ...value
            .split('\n')
            .map((line) =>
              h(
                'span',
                { class: line.startsWith('+') ? 'diff-created' : line.startsWith('-') ? 'diff-deleted' : '' },
                `${line}\n`,
              ),
            ),
        ),
      );
    } else parts.push(h('h4', {}, key), h('pre', { class: 'json' }, JSON.stringify(value, null, 2)));
  }
  return parts.length > 0 ? h('div', {}, ...parts) : h('p', {}, 'No evidence recorded.');
}

/** Everyone the decision credits, with what proves it (author, committer, signer, pusher, approver). */
function actorsView(d: Decision): HTMLElement {
  const actors = d.actors.length > 0 ? d.actors : [d.actor];
  return h(
    'ul',
    { class: 'actors' },
    ...actors.map((a) =>
      h('li', {}, h('strong', {}, a.name), a.email ? ` <${a.email}>` : '', ' ', badge(a.evidence, 'info')),
    ),
  );
}

export function decisionDetail(d: Decision): HTMLElement {
  return h(
    'article',
    { class: 'decision', 'aria-label': `Decision ${d.seq}` },
    h('h2', {}, `#${d.seq} ${d.action} `, badge(d.outcome, d.outcome === 'failed' ? 'bad' : 'ok')),
    h(
      'dl',
      {},
      h('dt', {}, 'When'),
      h('dd', {}, time(d.time)),
      h('dt', {}, 'Decided by'),
      h('dd', {}, `${d.decidedBy.kind} ${d.decidedBy.namespace}/${d.decidedBy.name} on ${d.cluster}`),
      h('dt', {}, 'Why'),
      h('dd', {}, `${d.reason}: ${d.message}`),
      d.source
        ? [
            h('dt', {}, 'Commit'),
            h(
              'dd',
              { class: 'mono' },
              d.source.revision,
              h('br'),
              d.source.commitMessage.split('\n')[0] ?? '',
            ),
          ]
        : null,
      d.source
        ? [h('dt', {}, 'Author'), h('dd', {}, `${d.source.author.name} <${d.source.author.email}>`)]
        : null,
      d.source
        ? [h('dt', {}, 'Committer'), h('dd', {}, `${d.source.committer.name} <${d.source.committer.email}>`)]
        : null,
      d.image?.repository
        ? [h('dt', {}, 'Image'), h('dd', { class: 'mono' }, `${d.image.repository}:${d.image.tag ?? ''}`)]
        : null,
      d.correlationId
        ? [
            h('dt', {}, 'Deploy'),
            h(
              'dd',
              {},
              link(`/console/deploys/${encodeURIComponent(d.correlationId)}`, 'every step of this deploy'),
            ),
          ]
        : null,
      h('dt', {}, 'Hash'),
      h('dd', { class: 'mono hash' }, d.hash),
    ),
    h('h3', {}, 'Who'),
    actorsView(d),
    h('h3', {}, 'Change set'),
    changeSetDiff(d),
    d.hiddenObjects
      ? h('p', {}, `${d.hiddenObjects} objects in namespaces you may not read are not shown.`)
      : null,
    h('h3', {}, 'Evidence'),
    evidenceView(d.evidence),
  );
}
