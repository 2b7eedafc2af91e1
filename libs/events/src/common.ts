import { z } from 'zod';

/** RFC 3339 timestamp with offset, as CloudEvents and Kubernetes write them. */
export const Timestamp = z.iso.datetime({ offset: true });

/** A Git identity as Git records it on a commit. */
export const GitSignature = z.object({
  name: z.string(),
  email: z.string(),
  time: Timestamp,
});
export type GitSignature = z.infer<typeof GitSignature>;

/** Points at one Kubernetes object; namespace is empty for cluster-scoped objects. */
export const ObjectRef = z.object({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  namespace: z.string(),
  name: z.string().min(1),
});
export type ObjectRef = z.infer<typeof ObjectRef>;

/** The Capstan object (Sync, HelmRelease, Canary, ImagePolicy...) that made a decision. */
export const DeciderRef = z.object({
  kind: z.enum(['Sync', 'HelmRelease', 'Canary', 'ImagePolicy', 'GitRepository', 'ImageUpdateAutomation']),
  namespace: z.string(),
  name: z.string().min(1),
});
export type DeciderRef = z.infer<typeof DeciderRef>;

/** How we know who the actor is; closed set so consumers can switch on it exhaustively. */
export const ActorEvidence = z.enum([
  'commit-author',
  'committer',
  'verified-signer',
  'registry-pusher',
  'authenticated-user',
  'controller',
]);
export const Actor = z.object({
  kind: z.enum(['person', 'bot', 'capstan']),
  name: z.string(),
  email: z.string().optional(),
  evidence: ActorEvidence,
});
export type Actor = z.infer<typeof Actor>;

export const ChangeAction = z.enum(['created', 'configured', 'unchanged', 'deleted', 'skipped', 'failed']);
export type ChangeAction = z.infer<typeof ChangeAction>;

/** One line of a typed change set, as returned by every apply or prune. */
export const ChangeSetEntry = ObjectRef.extend({
  action: ChangeAction,
  /** Why an entry was skipped or failed; the API server's message for a rejection. */
  message: z.string().optional(),
});
export type ChangeSetEntry = z.infer<typeof ChangeSetEntry>;

/** Where a revision came from, carried on every decision so the audit log can say "which commit and why". */
export const GitSource = z.object({
  repository: z.string(),
  url: z.string(),
  ref: z.string(),
  revision: z.string(),
  sha: z.string(),
  parents: z.array(z.string()),
  message: z.string(),
  author: GitSignature,
  committer: GitSignature,
});
export type GitSource = z.infer<typeof GitSource>;
