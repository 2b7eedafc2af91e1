import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const MODELS = '/@kubernetes/client-node/dist/gen/models/';

const EXPORT_MODEL = /^export \* from '\.\.\/models\/(\w+)\.js';$/;
const IMPORT_MODEL = /^import \{ (\w+) \} from '\.\.\/models\/(\w+)\.js';$/;

/**
 * @kubernetes/client-node's 757 model classes are a module each, all loaded at start because
 * `ObjectSerializer.js` imports every one (its type map) and the index re-exports them through
 * `all.js`. A module costs far more than its class (module records, its source with a licence
 * header, its URL): together about 3 MiB of V8 heap. Served as one module (the model files' text
 * verbatim, less the licence comment and source map line, followed by ObjectSerializer's own
 * code), the same classes load from a single source; `all.js` re-exports them from there.
 *
 * Undefined for any other file, and for both when the files do not have the shape this expects
 * (a new generator version): the library then loads as published, never half combined.
 */
export function modelsModule(url: string): string | undefined {
  const at = url.lastIndexOf(MODELS);
  if (at < 0) return undefined;
  const dir = url.slice(0, at + MODELS.length);
  let combined = cache.get(dir);
  if (combined === undefined) cache.set(dir, (combined = combine(dir) ?? null));
  const file = url.slice(dir.length);
  if (file === 'ObjectSerializer.js') return combined?.serializer;
  if (file === 'all.js') return combined?.all;
  return undefined;
}

const cache = new Map<string, { serializer: string; all: string } | null>();

function combine(dir: string): { serializer: string; all: string } | undefined {
  const serializer = serializerWithModels(`${dir}ObjectSerializer.js`);
  const all = allModels(`${dir}all.js`);
  if (!serializer || !all || !all.names.every((n) => serializer.names.has(n))) return undefined;
  return {
    serializer: serializer.source,
    all: `export { ${all.names.join(', ')} } from './ObjectSerializer.js';\n`,
  };
}

/** `ObjectSerializer.js` with every model it imports (and re-exports) defined in it. */
function serializerWithModels(url: string): { source: string; names: Set<string> } | undefined {
  const names = new Set<string>();
  const rest: string[] = [];
  for (const line of text(url).split('\n')) {
    const exported = EXPORT_MODEL.exec(line)?.[1];
    const imported = IMPORT_MODEL.exec(line);
    if (exported) names.add(exported);
    else if (imported?.[1] && imported[1] === imported[2]) names.add(imported[1]);
    else if (/^(import|export \*) /.test(line)) return undefined;
    else if (!line.startsWith('//# sourceMappingURL=')) rest.push(line);
  }
  const models: string[] = [];
  for (const name of names) {
    const source = modelSource(new URL(`${name}.js`, url).href, name);
    if (source === undefined) return undefined;
    models.push(source);
  }
  return { source: [...models, ...rest].join('\n'), names };
}

/** One model file without its licence comment and source map line; it must be its class alone. */
function modelSource(url: string, name: string): string | undefined {
  const source = text(url)
    .replace(/^\/\*\*[\s\S]*?\*\/\n/, '')
    .replace(/\n\/\/# sourceMappingURL=.*\s*$/, '');
  const declarations = source.match(/^(export|import|const|let|var|function|class) /gm) ?? [];
  const ok = declarations.length === 1 && new RegExp(`^export class ${name} \\{`, 'm').test(source);
  return ok ? source : undefined;
}

/** The model names `all.js` re-exports. */
function allModels(url: string): { names: string[] } | undefined {
  const names: string[] = [];
  for (const line of text(url).split('\n')) {
    if (line === '' || line.startsWith('//# sourceMappingURL=')) continue;
    const name = EXPORT_MODEL.exec(line)?.[1];
    if (!name) return undefined;
    names.push(name);
  }
  return { names };
}

function text(url: string): string {
  return readFileSync(fileURLToPath(url), 'utf8');
}
