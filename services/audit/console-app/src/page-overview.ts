import { api, query, type OverviewItem } from './api.js';
import { badge, h, link, replace, shortRevision, time } from './dom.js';
import { onDecisions } from './live.js';
import type { Page } from './page.js';

const READY_BADGE = {
  True: () => badge('Ready', 'ok'),
  False: () => badge('Not Ready', 'bad'),
  Unknown: () => badge('Unknown', 'unknown'),
} as const;

function row(item: OverviewItem): HTMLTableRowElement {
  const d = item.lastDecision;
  const objectHref = `/console/who${query({ namespace: item.namespace, kind: item.kind, name: item.name })}`;
  return h(
    'tr',
    { 'data-kind': item.kind, 'data-ready': item.ready },
    h('td', {}, item.kind),
    h(
      'td',
      {},
      link(objectHref, `${item.namespace}/${item.name}`),
      item.suspended ? [' ', badge('suspended', 'info')] : null,
    ),
    h(
      'td',
      { title: item.message },
      READY_BADGE[item.ready](),
      item.reason ? h('span', { class: 'reason' }, ` ${item.reason}`) : null,
    ),
    h('td', { class: 'mono' }, shortRevision(item.revision)),
    h(
      'td',
      {},
      d
        ? [
            d.correlationId
              ? link(`/console/deploys/${encodeURIComponent(d.correlationId)}`, d.action)
              : d.action,
            ' ',
            badge(d.outcome, d.outcome === 'failed' ? 'bad' : 'ok'),
            ' ',
            time(d.time),
          ]
        : '–',
    ),
    h('td', {}, d ? h('span', { title: `${d.actor.email ?? ''} (${d.actor.evidence})` }, d.actor.name) : '–'),
  );
}

export const overviewPage: Page = (main, route) => {
  const namespace = route.params.get('namespace') ?? '';
  const ready = route.params.get('ready') ?? '';
  const kind = route.params.get('kind') ?? '';
  const nsSelect = h(
    'select',
    { id: 'filter-namespace', name: 'namespace' },
    h('option', { value: '' }, 'All namespaces'),
  );
  const stateSelect = h(
    'select',
    { id: 'filter-ready', name: 'ready' },
    h('option', { value: '' }, 'Any state'),
    h('option', { value: 'False', selected: ready === 'False' }, 'Not Ready'),
    h('option', { value: 'True', selected: ready === 'True' }, 'Ready'),
    h('option', { value: 'Unknown', selected: ready === 'Unknown' }, 'Unknown'),
  );
  const kindSelect = h(
    'select',
    { id: 'filter-kind', name: 'kind' },
    h('option', { value: '' }, 'All kinds'),
    ...['Sync', 'GitRepository', 'HelmRelease', 'Canary', 'ImagePolicy'].map((k) =>
      h('option', { value: k, selected: kind === k }, k),
    ),
  );
  const body = h('tbody');
  const summary = h('p', { class: 'summary', role: 'status', 'aria-live': 'polite' });
  const apply = () => {
    const next = query({ namespace: nsSelect.value, ready: stateSelect.value, kind: kindSelect.value });
    history.replaceState(null, '', `/console/${next}`);
    void load();
  };
  for (const s of [nsSelect, stateSelect, kindSelect]) s.addEventListener('change', apply);

  const load = async () => {
    try {
      const { items } = await api.get<{ items: OverviewItem[] }>(
        `/api/v1/overview${query({ ready: stateSelect.value, kind: kindSelect.value })}`,
      );
      const namespaces = [...new Set(items.map((i) => i.namespace))].sort();
      const chosen = nsSelect.value || namespace;
      replace(
        nsSelect,
        h('option', { value: '' }, 'All namespaces'),
        ...namespaces.map((ns) => h('option', { value: ns, selected: ns === chosen }, ns)),
      );
      const shown = items.filter((i) => !nsSelect.value || i.namespace === nsSelect.value);
      replace(body, ...shown.map(row));
      const notReady = shown.filter((i) => i.ready === 'False').length;
      summary.textContent = `${shown.length} objects, ${notReady} not Ready`;
    } catch (e) {
      summary.textContent = `Could not load the overview: ${e instanceof Error ? e.message : String(e)}`;
    }
  };

  replace(
    main,
    h('h1', {}, 'Overview'),
    h(
      'form',
      {
        class: 'filters',
        role: 'search',
        'aria-label': 'Filter objects',
        onsubmit: (e: Event) => e.preventDefault(),
      },
      h('label', { for: 'filter-namespace' }, 'Namespace'),
      nsSelect,
      h('label', { for: 'filter-ready' }, 'State'),
      stateSelect,
      h('label', { for: 'filter-kind' }, 'Kind'),
      kindSelect,
    ),
    summary,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'objects', 'aria-label': 'Capstan objects' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['Kind', 'Object', 'Ready', 'Revision', 'Last decision', 'Actor'].map((c) =>
              h('th', { scope: 'col' }, c),
            ),
          ),
        ),
        body,
      ),
    ),
  );
  void load();
  return onDecisions(() => void load());
};
