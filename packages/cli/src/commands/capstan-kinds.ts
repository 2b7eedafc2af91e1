import { UsageError } from '../object-ref.js';

/** A Capstan kind as the CLI names it: `capstan get syncs`, `capstan suspend release/web`. */
export interface CliKind {
  kind: string;
  group: string;
  version: string;
  plural: string;
  /** Every word a person may type for it, singular and plural. */
  aliases: readonly string[];
  /**
   * The same kind under another API group Capstan also serves, listed alongside: Flux v1's
   * HelmReleases and Flagger's Canaries deploy unchanged, so `capstan get` must show them too.
   */
  also?: readonly { group: string; version: string }[];
}

export const CLI_KINDS: readonly CliKind[] = [
  {
    kind: 'Sync',
    group: 'capstan.dev',
    version: 'v1alpha1',
    plural: 'syncs',
    aliases: ['sync', 'syncs', 'sy'],
  },
  {
    kind: 'GitRepository',
    group: 'capstan.dev',
    version: 'v1alpha1',
    plural: 'gitrepositories',
    aliases: [
      'repositories',
      'repository',
      'repo',
      'repos',
      'gitrepository',
      'gitrepositories',
      'source',
      'sources',
    ],
  },
  {
    kind: 'HelmRelease',
    group: 'capstan.dev',
    version: 'v1alpha1',
    plural: 'helmreleases',
    aliases: ['releases', 'release', 'helmrelease', 'helmreleases', 'hr'],
    also: [{ group: 'helm.fluxcd.io', version: 'v1' }],
  },
  {
    kind: 'Canary',
    group: 'capstan.dev',
    version: 'v1alpha1',
    plural: 'canaries',
    aliases: ['canaries', 'canary'],
    also: [{ group: 'flagger.app', version: 'v1beta1' }],
  },
  {
    kind: 'ImagePolicy',
    group: 'capstan.dev',
    version: 'v1alpha1',
    plural: 'imagepolicies',
    aliases: ['images', 'image', 'imagepolicy', 'imagepolicies'],
  },
];

/** The words `get` and completion offer first. */
export const KIND_WORDS = ['syncs', 'repositories', 'releases', 'canaries', 'images'] as const;

export function kindOf(word: string): CliKind {
  const k = CLI_KINDS.find((c) => c.aliases.includes(word.toLowerCase()) || c.kind === word);
  if (!k) throw new UsageError(`unknown kind "${word}"; use one of ${KIND_WORDS.join(', ')}`);
  return k;
}

/** `<kind>/<name>` as in `sync/web`, `release/podinfo`. */
export function parseKindRef(ref: string): { kind: CliKind; name: string } {
  const m = /^([A-Za-z]+)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(ref);
  if (!m?.[1] || !m[2]) throw new UsageError(`expected <kind>/<name> (e.g. sync/web), got "${ref}"`);
  return { kind: kindOf(m[1]), name: m[2] };
}
