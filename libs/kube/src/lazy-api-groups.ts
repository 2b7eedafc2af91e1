import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';
import { MODELS, modelsModule } from './one-module-models.js';

const TYPES = '/@kubernetes/client-node/dist/gen/types/';
const OBJECT_API = `${TYPES}ObjectParamAPI.js`;
const GROUP = '__capstan_api_group_';
const SPECIFIER = 'capstan-kube-api-group:';

/**
 * @kubernetes/client-node's index evaluates the request code of every API group (about 70:
 * `types/ObservableAPI.js` is 7 MB of source, `apis/*.js` another 8 MB) although a service uses a
 * handful (CoreV1, CustomObjects, Coordination): about 20 MiB of resident memory in every process
 * for code that never runs. With these hooks, `types/ObjectParamAPI.js` (whose classes the index
 * exports as `CoreV1Api`, ...) is served as classes that load their own group when first
 * constructed, from the generated files' own text (that group's `Observable…` and `Object…`
 * classes and its `apis/` module), so what runs is the library's code unchanged.
 *
 * The model classes load as one module instead of 757 (one-module-models.ts), from the same text.
 *
 * Call it before anything imports @kubernetes/client-node: a service's main registers it and only
 * then imports the service dynamically (static imports are linked before any code runs). Idempotent.
 */
export function loadApiGroupsLazily(): void {
  if (registered) return;
  registered = true;
  registerHooks({
    resolve(specifier, context, next) {
      if (!specifier.startsWith(SPECIFIER)) return next(specifier, context);
      // A module of its own per group, in the generated folder so its relative imports resolve.
      const parent = context.parentURL ?? '';
      const types = parent.slice(0, parent.lastIndexOf('/') + 1);
      return {
        url: `${types}${GROUP}${specifier.slice(SPECIFIER.length)}.js`,
        format: 'module',
        shortCircuit: true,
      };
    },
    load(url, context, next) {
      if (url.endsWith(OBJECT_API)) return { format: 'module', source: lazyIndex(url), shortCircuit: true };
      const models = url.includes(MODELS) ? modelsModule(url) : undefined;
      if (models !== undefined) return { format: 'module', source: models, shortCircuit: true };
      const at = url.lastIndexOf(GROUP);
      if (at >= 0 && url.includes(TYPES))
        return {
          format: 'module',
          source: groupModule(url.slice(0, at), url.slice(at + GROUP.length, -'.js'.length)),
          shortCircuit: true,
        };
      return next(url, context);
    },
  });
}

let registered = false;

/** `ObjectParamAPI.js` as one small class per group that builds the real one on construction. */
function lazyIndex(url: string): string {
  const names = [
    ...read(url)
      .toString('latin1')
      .matchAll(/^export class Object(\w+) \{/gm),
  ].map((m) => m[1] ?? '');
  return [
    `import { createRequire } from 'node:module';`,
    `const require = createRequire(import.meta.url);`,
    ...names.map(
      (n) =>
        `export class Object${n} { constructor(...args) { return new (require(${JSON.stringify(`${SPECIFIER}${n}`)}).Object${n})(...args); } }`,
    ),
  ].join('\n');
}

/**
 * One group's module: the shared imports at the top of `ObservableAPI.js`, then that group's
 * sections of `ObservableAPI.js` and `ObjectParamAPI.js` verbatim. Each section is an `import` of
 * the group's own module followed by its class, up to the next line starting with `import `.
 */
function groupModule(typesUrl: string, name: string): string {
  const observable = fileURLToPath(`${typesUrl}ObservableAPI.js`);
  const head = readAt(observable, 0, CHUNK).toString('utf8');
  // Shared imports: everything before the first group's own `import` line.
  const shared = head.slice(0, head.lastIndexOf('\nimport ', head.indexOf('\nexport class ')));
  const own = section(observable, `export class Observable${name} {`);
  const object = section(fileURLToPath(`${typesUrl}ObjectParamAPI.js`), `export class Object${name} {`);
  if (!shared || own === undefined || object === undefined)
    throw new Error(`@kubernetes/client-node: API group ${name} not found in the generated code`);
  // The Object class's own import names the Observable class, defined just above instead.
  return [shared, own, object.slice(object.indexOf('\n') + 1)].join('\n');
}

const CHUNK = 64 * 1024;

/**
 * The section holding `marker`, from the `import` line before it to the next `import` line. Read
 * a chunk at a time: the whole 7 MB file in memory, even briefly, raises the process's resident
 * high-water mark (freed, the allocator keeps it) by more than the group costs. Chunks are small
 * and the search reuses one buffer: a fresh 1 MiB buffer per read (each garbage at once) left
 * about 6 MiB more resident at idle, glibc serving them from its heap once the first was freed.
 */
function section(path: string, marker: string): string | undefined {
  const needle = Buffer.from(marker);
  const nextImport = Buffer.from('\nimport ');
  const fd = openSync(path, 'r');
  try {
    const scratch = Buffer.allocUnsafe(CHUNK);
    let at = -1;
    for (let pos = 0; at < 0; pos += CHUNK - needle.length) {
      const read = readSync(fd, scratch, 0, CHUNK, pos);
      const i = scratch.subarray(0, read).indexOf(needle);
      if (i >= 0) at = pos + i;
      else if (read < CHUNK) return undefined;
    }
    const before = Math.max(0, at - 64 * 1024);
    const start = before + readAt(fd, before, at - before).lastIndexOf(nextImport) + 1;
    const parts: Buffer[] = [];
    for (let pos = start; ; pos += CHUNK) {
      const chunk = readAt(fd, pos, CHUNK + nextImport.length);
      const end = chunk.indexOf(nextImport, pos === start ? at - start : 0);
      if (end >= 0) {
        parts.push(chunk.subarray(0, end));
        break;
      }
      parts.push(chunk.subarray(0, Math.min(chunk.length, CHUNK)));
      if (chunk.length < CHUNK) break;
    }
    return Buffer.concat(parts).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function readAt(file: string | number, position: number, length: number): Buffer {
  if (typeof file === 'string') {
    const fd = openSync(file, 'r');
    try {
      return readAt(fd, position, length);
    } finally {
      closeSync(fd);
    }
  }
  const buffer = Buffer.allocUnsafe(length);
  return buffer.subarray(0, readSync(file, buffer, 0, length, position));
}

function read(url: string): Buffer {
  return readFileSync(fileURLToPath(url));
}
