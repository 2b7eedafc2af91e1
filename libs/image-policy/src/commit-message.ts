import { CORRELATION_TRAILER } from '@capstan/events';
import { formatImageRef, type ImageRef } from './image-ref.js';

export interface CommitMessageOptions {
  /** Replaces Flux v1's forms; `{{images}}` (one per line), `{{count}}`, `{{automation}}`, `{{changes}}`. */
  template?: string;
  ciSkip?: boolean;
  /** Appended as `[ci skip]` by default (Flux v1's `--git-ci-skip-message`). */
  ciSkipMessage?: string;
  automation?: string;
  /** Git trailer carrying the push's correlation id to the deploy decision. */
  correlationId?: string;
}

export interface MessageChange {
  file: string;
  object: string;
  container: string;
  from: string;
  to: ImageRef;
}

/**
 * The commit message of one automation run: Flux v1's `Auto-release <image>` or
 * `Auto-release multiple (N) images` with a bullet per image, or the user's template.
 */
export function commitMessage(changes: readonly MessageChange[], options: CommitMessageOptions = {}): string {
  const images = [...new Set(changes.map((c) => formatImageRef(c.to)))].sort();
  let body: string;
  if (options.template) {
    body = options.template
      .replaceAll('{{images}}', images.join('\n'))
      .replaceAll('{{count}}', String(images.length))
      .replaceAll('{{automation}}', options.automation ?? '')
      .replaceAll(
        '{{changes}}',
        changes
          .map((c) => `${c.file}: ${c.object} ${c.container} ${c.from} -> ${formatImageRef(c.to)}`)
          .join('\n'),
      );
  } else if (images.length === 1) body = `Auto-release ${images.join('')}`;
  else body = `Auto-release multiple (${images.length}) images\n\n${images.map((i) => ` - ${i}`).join('\n')}`;
  if (options.ciSkip) body += `\n\n${options.ciSkipMessage ?? '[ci skip]'}`;
  if (options.correlationId) body += `\n\n${CORRELATION_TRAILER}: ${options.correlationId}`;
  return body;
}

export { correlationIdFromCommit as correlationIdOf } from '@capstan/events';
