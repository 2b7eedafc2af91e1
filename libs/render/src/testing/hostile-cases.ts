import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';

/**
 * Reads a table of hostile cases (`<package>/fixtures/hostile/<name>.yaml`, a `cases:` list) and
 * expands the generators a row may use instead of a literal text, so a 1 MB bomb is one line of
 * the table. Shared by every package's hostile-input spec.
 */
export async function readHostileCases<T>(url: URL): Promise<T[]> {
  const doc = parse(await readFile(url, 'utf8')) as { cases?: T[] } | null;
  if (!doc?.cases?.length) throw new Error(`${url.pathname}: no cases`);
  return doc.cases;
}

/** A file's text in a case: literal, or one of the generators below. */
export type GeneratedText =
  | string
  | { laughs: { depth: number; width: number } }
  | { bigAlias: { bytes: number; aliases: number } }
  | { repeat: { text: string; times: number } };

export function generateText(spec: GeneratedText): string {
  if (typeof spec === 'string') return spec;
  if ('repeat' in spec) return spec.repeat.text.repeat(spec.repeat.times);
  const header = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\n';
  if ('laughs' in spec) {
    const { depth, width } = spec.laughs;
    let text = `${header}l0: &l0 [${Array.from({ length: width }, () => '"lol"').join(', ')}]\n`;
    for (let i = 1; i < depth; i++)
      text += `l${i}: &l${i} [${Array.from({ length: width }, () => `*l${i - 1}`).join(', ')}]\n`;
    return `${text}data: {all: *l${depth - 1}}\n`;
  }
  const { bytes, aliases } = spec.bigAlias;
  return `${header}big: &big "${'x'.repeat(bytes)}"\ndata: {copies: [${Array.from({ length: aliases }, () => '*big').join(', ')}]}\n`;
}
