/** A container image reference split the way registries address it. */
export interface ImageRef {
  /** Host (and port) of the registry; `docker.io` when the reference names none. */
  registry: string;
  /** Path inside the registry: `library/nginx`, `org/app`. */
  repository: string;
  tag?: string;
  digest?: string;
}

export class ImageRefError extends Error {
  constructor(
    readonly ref: string,
    reason: string,
  ) {
    super(`invalid image reference "${ref}": ${reason}`);
    this.name = 'ImageRefError';
  }
}

export const DOCKER_HUB = 'docker.io';
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const REPO_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/**
 * Parses `[registry/]repository[:tag][@digest]` as Docker does: the first component is a registry
 * when it has a dot or a port or is `localhost`; Docker Hub's single names live under `library/`.
 */
export function parseImageRef(ref: string): ImageRef {
  const trimmed = ref.trim();
  if (trimmed === '') throw new ImageRefError(ref, 'empty');
  let rest = trimmed;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new ImageRefError(ref, `digest "${digest}" is not sha256:<64 hex>`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new ImageRefError(ref, `tag "${tag}" is not a valid tag`);
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    parts.shift();
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  for (const p of parts) {
    if (!REPO_COMPONENT.test(p)) throw new ImageRefError(ref, `repository component "${p}" is not valid`);
  }
  return {
    registry,
    repository: parts.join('/'),
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}

/** `registry/repository`, the key an image repository is known by everywhere in Capstan. */
export function canonicalName(ref: Pick<ImageRef, 'registry' | 'repository'>): string {
  return `${ref.registry}/${ref.repository}`;
}

/**
 * Formats a reference, keeping the short Docker Hub form (`nginx`, `org/app`) when the original
 * text used it, so a rewrite changes only the tag.
 */
export function formatImageRef(ref: ImageRef, style: { shortHub?: boolean } = {}): string {
  let name = canonicalName(ref);
  if (style.shortHub && ref.registry === DOCKER_HUB) {
    name = ref.repository.startsWith('library/') ? ref.repository.slice('library/'.length) : ref.repository;
  }
  return `${name}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** Whether the text named Docker Hub implicitly (no registry host). */
export function usesShortHubName(text: string): boolean {
  const first = text.split('/')[0] ?? '';
  return !(text.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost'));
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}
