import { api, query, type Decision, type HistoryEntry, type Page as ApiPage } from './api.js';
import { decisionDetail } from './decision-detail.js';
import { badge, h, replace, shortRevision, time } from './dom.js';
import { VirtualList } from './virtual-list.js';
import type { Page } from './page.js';

const FIELDS = [
  ['namespace', 'Namespace', 'shop'],
  ['kind', 'Kind', 'Deployment'],
  ['name', 'Name', 'web'],
  ['actor', 'Person', 'name or email'],
  ['revision', 'Commit', 'sha or main@sha1:…'],
  ['action', 'Action', 'applied'],
  ['image', 'Image', 'ghcr.io/org/app:1.2.3'],
] as const;

/** The first page is small so the newest decisions show at once; later pages are large. */
const FIRST_PAGE = 100;
const PAGE_SIZE = 500;
const ROW_HEIGHT = 44;

function timeline(entries: HistoryEntry[]): HTMLElement {
  return h(
    'ol',
    { class: 'timeline', 'aria-label': 'Object history' },
    ...entries.map((e) =>
      h(
        'li',
        {},
        h('div', { class: 'when' }, time(e.time)),
        h(
          'div',
          {},
          h('strong', {}, e.objectAction ?? e.action),
          ' ',
          badge(e.outcome, e.outcome === 'failed' ? 'bad' : 'ok'),
          ' ',
          h('span', { class: 'mono' }, shortRevision(e.revision)),
          e.commitMessage ? ` “${e.commitMessage.split('\n')[0] ?? ''}”` : '',
          h('br'),
          `by ${e.actor.name} (${e.actor.evidence})`,
          e.author ? ` · author ${e.author.name}` : '',
          e.committer ? ` · committer ${e.committer.name}` : '',
          ` · ${e.decidedBy.kind} ${e.decidedBy.namespace}/${e.decidedBy.name}`,
        ),
      ),
    ),
  );
}

export const whoPage: Page = (main, route) => {
  const params = route.params;
  const inputs = FIELDS.map(([key, label, placeholder]) => ({
    key,
    label,
    input: h('input', {
      id: `q-${key}`,
      name: key,
      placeholder,
      value: params.get(key) ?? '',
      autocomplete: 'off',
    }),
  }));
  const form = h(
    'form',
    { class: 'search', role: 'search', 'aria-label': 'Search decisions' },
    ...inputs.map(({ key, label, input }) =>
      h('div', { class: 'field' }, h('label', { for: `q-${key}` }, label), input),
    ),
    h('button', { type: 'submit' }, 'Search'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = query(Object.fromEntries(inputs.map(({ key, input }) => [key, input.value.trim()])));
    history.pushState(null, '', `/console/who${next}`);
    window.dispatchEvent(new PopStateEvent('popstate'));
  });

  const filter = Object.fromEntries(FIELDS.map(([key]) => [key, params.get(key) ?? undefined]));
  const detail = h(
    'aside',
    { class: 'detail', 'aria-live': 'polite' },
    h('p', {}, 'Select a decision to see who, the change set and the evidence.'),
  );
  let cursor: string | null | undefined;
  const list = new VirtualList<Decision>({
    label: 'Decisions, newest first',
    rowHeight: ROW_HEIGHT,
    loadMore: async () => {
      if (cursor === null) return null;
      const page = await api.get<ApiPage<Decision>>(
        `/api/v1/decisions${query({ ...filter, limit: cursor === undefined ? FIRST_PAGE : PAGE_SIZE, cursor })}`,
      );
      cursor = page.nextCursor;
      return page.items;
    },
    renderRow: (d) =>
      h(
        'div',
        { class: `decision-row outcome-${d.outcome}` },
        h('span', { class: 'seq' }, `#${d.seq}`),
        h('span', { class: 'when' }, time(d.time)),
        h('span', { class: 'action' }, d.action),
        h('span', { class: 'decider' }, `${d.decidedBy.namespace}/${d.decidedBy.name}`),
        h('span', { class: 'mono rev' }, shortRevision(d.source?.revision)),
        h('span', { class: 'actor' }, d.actor.name),
      ),
    onSelect: (d) => {
      replace(detail, decisionDetail(d));
      detail.focus();
    },
  });
  detail.tabIndex = -1;
  const historyBox = h('section', { class: 'history' });
  replace(
    main,
    h('h1', {}, 'Who deployed what'),
    form,
    historyBox,
    h(
      'div',
      { class: 'split' },
      h('section', { class: 'results' }, list.statusElement, list.element),
      detail,
    ),
  );
  list.start().catch((e: unknown) => {
    list.statusElement.textContent = `Could not search: ${e instanceof Error ? e.message : String(e)}`;
  });
  const { namespace, kind, name } = filter;
  if (namespace && kind && name) {
    api
      .get<{ items: HistoryEntry[] }>(
        `/api/v1/objects/${encodeURIComponent(namespace)}/${encodeURIComponent(kind)}/${encodeURIComponent(name)}/history${query({ limit: 50 })}`,
      )
      .then(({ items }) => replace(historyBox, h('h2', {}, `${kind} ${namespace}/${name}`), timeline(items)))
      .catch(() => replace(historyBox));
  }
  return undefined;
};
