import { isMapping } from './values.js';

/** One path or URL a kustomization (or a plugin configuration it names) asks kustomize to read. */
export type KustomizeReference =
  | {
      kind: 'local';
      /** Where it is named, e.g. `resources[2]`, `configMapGenerator[0].files[1]`. */
      field: string;
      path: string;
      /** kustomize takes a missing path in this field for a remote target and fetches it. */
      mayBeRemote: boolean;
      /** A plugin configuration file (generators, transformers, validators): it names files too. */
      config: boolean;
    }
  | { kind: 'remote'; field: string; path: string }
  | { kind: 'refused'; field: string; path: string; reason: string };

/** Parses an inline plugin configuration (a string holding YAML) into its documents. */
export type InlineParser = (text: string, field: string) => unknown[];

/**
 * A URL kustomize fetches. Host-like paths (`github.com/org/repo`) are local paths first for
 * kustomize too, and remote only when missing: see `mayBeRemote`.
 */
const REMOTE = /^[a-z][a-z0-9+.-]*:\/\/|^git@|^git::/i;

/**
 * What kustomize would read for a kustomization, field by field. Pure: existence and containment
 * are the caller's to check. Inline plugin configurations are parsed with `inline` and their own
 * file references returned (relative to the kustomization, as kustomize reads them).
 */
export function kustomizationReferences(
  doc: Record<string, unknown>,
  inline: InlineParser,
): KustomizeReference[] {
  const out: KustomizeReference[] = [];
  const local = (field: string, path: string, mayBeRemote = false, config = false) =>
    out.push({ kind: 'local', field, path, mayBeRemote, config });
  for (const field of ['resources', 'bases', 'components']) {
    for (const [i, path] of strings(doc[field]))
      if (REMOTE.test(path)) out.push({ kind: 'remote', field: `${field}[${i}]`, path });
      else local(`${field}[${i}]`, path, true);
  }
  for (const field of ['crds', 'configurations'])
    for (const [i, path] of strings(doc[field])) local(`${field}[${i}]`, path);
  for (const [i, patch] of strings(doc['patchesStrategicMerge']))
    if (!patch.includes('\n')) local(`patchesStrategicMerge[${i}]`, patch);
  for (const field of ['patches', 'patchesJson6902', 'replacements'])
    for (const [i, item] of list(doc[field]))
      if (isMapping(item) && typeof item['path'] === 'string') local(`${field}[${i}].path`, item['path']);
  if (isMapping(doc['openapi']) && typeof doc['openapi']['path'] === 'string')
    local('openapi.path', doc['openapi']['path']);
  for (const field of ['configMapGenerator', 'secretGenerator'])
    for (const [i, generator] of list(doc[field])) out.push(...generatorFiles(generator, `${field}[${i}]`));
  out.push(...helmReferences(doc, ''));
  for (const field of ['generators', 'transformers', 'validators']) {
    for (const [i, entry] of strings(doc[field])) {
      const at = `${field}[${i}]`;
      if (!entry.includes('\n')) {
        if (REMOTE.test(entry)) out.push({ kind: 'remote', field: at, path: entry });
        else local(at, entry, false, true);
        continue;
      }
      for (const config of inline(entry, at)) out.push(...pluginReferences(config, `${at} (inline)`));
    }
  }
  return out;
}

/**
 * What a generator, transformer or validator configuration reads: the files of built-in
 * generators, a patch's or replacement's path, a chart's values. A KRM function (an `exec` or a
 * `container`) runs a program on the reconciler's host and is refused whatever the path.
 */
export function pluginReferences(config: unknown, field: string): KustomizeReference[] {
  if (!isMapping(config)) return [];
  const metadata = isMapping(config['metadata']) ? config['metadata'] : {};
  const annotations = isMapping(metadata['annotations']) ? metadata['annotations'] : {};
  const fn = annotations['config.kubernetes.io/function'] ?? annotations['config.k8s.io/function'];
  const kind = typeof config['kind'] === 'string' ? config['kind'] : 'plugin';
  if (fn !== undefined)
    return [
      { kind: 'refused', field, path: kind, reason: 'KRM functions (exec or container plugins) are not run' },
    ];
  const out: KustomizeReference[] = [...generatorFiles(config, field), ...helmReferences(config, field)];
  if (typeof config['path'] === 'string')
    out.push({
      kind: 'local',
      field: `${field}.path`,
      path: config['path'],
      mayBeRemote: false,
      config: false,
    });
  for (const [i, item] of list(config['replacements']))
    if (isMapping(item) && typeof item['path'] === 'string')
      out.push({
        kind: 'local',
        field: `${field}.replacements[${i}].path`,
        path: item['path'],
        mayBeRemote: false,
        config: false,
      });
  return out;
}

/** `files` (maybe `key=path`), `envs` and `env` of a ConfigMap/Secret generator. */
function generatorFiles(generator: unknown, field: string): KustomizeReference[] {
  if (!isMapping(generator)) return [];
  const at = (name: string, path: string): KustomizeReference => ({
    kind: 'local',
    field: `${field}${field === '' ? '' : '.'}${name}`,
    path,
    mayBeRemote: false,
    config: false,
  });
  const out = [
    ...strings(generator['files']).map(([i, f]) => at(`files[${i}]`, f.slice(f.indexOf('=') + 1))),
    ...strings(generator['envs']).map(([i, f]) => at(`envs[${i}]`, f)),
  ];
  if (typeof generator['env'] === 'string') out.push(at('env', generator['env']));
  return out;
}

/** helmCharts / helmGlobals (kustomize's chart inflation; also refused by kustomize without --enable-helm). */
function helmReferences(doc: Record<string, unknown>, field: string): KustomizeReference[] {
  const prefix = field === '' ? '' : `${field}.`;
  const out: KustomizeReference[] = [];
  const local = (name: string, path: string): KustomizeReference => ({
    kind: 'local',
    field: `${prefix}${name}`,
    path,
    mayBeRemote: false,
    config: false,
  });
  const globals = doc['helmGlobals'];
  if (isMapping(globals) && typeof globals['chartHome'] === 'string')
    out.push(local('helmGlobals.chartHome', globals['chartHome']));
  for (const [i, chart] of list(doc['helmCharts'])) {
    if (!isMapping(chart)) continue;
    if (typeof chart['valuesFile'] === 'string')
      out.push(local(`helmCharts[${i}].valuesFile`, chart['valuesFile']));
    if (typeof chart['repo'] === 'string')
      out.push({ kind: 'remote', field: `${prefix}helmCharts[${i}].repo`, path: chart['repo'] });
  }
  if (typeof doc['chartHome'] === 'string') out.push(local('chartHome', doc['chartHome']));
  if (typeof doc['valuesFile'] === 'string') out.push(local('valuesFile', doc['valuesFile']));
  return out;
}

function strings(v: unknown): [number, string][] {
  return Array.isArray(v)
    ? v.flatMap((s, i) => (typeof s === 'string' ? [[i, s] as [number, string]] : []))
    : [];
}

function list(v: unknown): [number, unknown][] {
  return Array.isArray(v) ? v.map((item, i) => [i, item] as [number, unknown]) : [];
}
