/**
 * A URL rewrite table, like git's `url.<base>.insteadOf`: public prefix -> mirror prefix. An
 * air-gapped cluster keeps Git repositories and Helm charts on internal mirrors while the
 * manifests in Git keep naming the public URLs.
 */
export type UrlRewrites = Readonly<Record<string, string>>;

/** The URL through the table: the longest matching prefix wins, as with git. Pure. */
export function rewriteUrl(url: string, rewrites: UrlRewrites | undefined): string {
  if (!rewrites) return url;
  let best: string | undefined;
  for (const from of Object.keys(rewrites))
    if (from !== '' && url.startsWith(from) && (best === undefined || from.length > best.length)) best = from;
  return best === undefined ? url : `${rewrites[best] ?? ''}${url.slice(best.length)}`;
}

/** The table from its config form (a JSON object of strings); throws naming what is wrong. */
export function parseUrlRewrites(json: string | undefined): UrlRewrites {
  if (json === undefined || json.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    throw new Error(`URL rewrites: not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('URL rewrites: expected an object of "public prefix": "mirror prefix"');
  for (const [from, to] of Object.entries(parsed))
    if (typeof to !== 'string' || from === '')
      throw new Error(`URL rewrites: "${from}" must map a non-empty prefix to a string`);
  return parsed as Record<string, string>;
}
