import type { Actor, GitSource } from '@capstan/events';

// Commits by automation identify themselves by convention; crediting a person for them would mislead.
const BOT_PATTERNS = [/\[bot\]/i, /^capstan$/i, /noreply.*bot/i, /^(renovate|dependabot|github-actions)/i];

function kindOf(name: string, email: string): Actor['kind'] {
  return BOT_PATTERNS.some((p) => p.test(name) || p.test(email)) ? 'bot' : 'person';
}

/** Who deployed a commit: the author first (they wrote the change), then the committer. */
export function actorsOfCommit(source: GitSource): Actor[] {
  const author: Actor = {
    kind: kindOf(source.author.name, source.author.email),
    name: source.author.name,
    email: source.author.email,
    evidence: 'commit-author',
  };
  const sameCommitter =
    source.committer.email === source.author.email && source.committer.name === source.author.name;
  if (sameCommitter) return [author];
  return [
    author,
    {
      kind: kindOf(source.committer.name, source.committer.email),
      name: source.committer.name,
      email: source.committer.email,
      evidence: 'committer',
    },
  ];
}

export const CAPSTAN_ACTOR: Actor = { kind: 'capstan', name: 'capstan', evidence: 'controller' };
