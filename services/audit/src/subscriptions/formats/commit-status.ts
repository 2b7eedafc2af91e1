import type { ChainedDecision } from '../../domain/decision-record.js';
import { clip, type DeployNotice } from './deploy-notice.js';

/*
 * Commit status write-back, as Flux's notification-controller does it: every decision about a
 * commit sets a status on that commit, so the pull request shows whether (and where) it is
 * deployed. One context per deciding object and cluster, so several Syncs deploying the same
 * commit each get their own line.
 */

export type GitHubState = 'success' | 'failure' | 'error' | 'pending';
export type GitLabState = 'pending' | 'running' | 'success' | 'failed' | 'canceled';

/** POST {url}/statuses/{sha}, url being https://api.github.com/repos/<owner>/<repo>. */
export interface GitHubStatusBody {
  state: GitHubState;
  context: string;
  description: string;
  target_url?: string;
}

/** POST {url}/statuses/{sha}, url being https://gitlab.example.com/api/v4/projects/<id or url-encoded path>. */
export interface GitLabStatusBody {
  state: GitLabState;
  name: string;
  description: string;
  target_url?: string;
}

/** GitHub's limit on `description`. */
const GITHUB_DESCRIPTION_MAX = 140;
const GITLAB_DESCRIPTION_MAX = 255;

export const statusContext = (d: Pick<ChainedDecision, 'decidedBy' | 'cluster'>): string =>
  `capstan/${d.decidedBy.kind.toLowerCase()}/${d.decidedBy.namespace}/${d.decidedBy.name}@${d.cluster}`;

function description(d: ChainedDecision, n: DeployNotice): string {
  return `${n.outcome === 'failed' ? 'failed' : d.action} on ${d.cluster}: ${d.reason}: ${d.message}`;
}

export function githubStatus(d: ChainedDecision, n: DeployNotice): GitHubStatusBody {
  return {
    state: n.outcome === 'failed' ? 'failure' : 'success',
    context: statusContext(d),
    description: clip(description(d, n), GITHUB_DESCRIPTION_MAX),
    ...(n.link ? { target_url: n.link } : {}),
  };
}

export function gitlabStatus(d: ChainedDecision, n: DeployNotice): GitLabStatusBody {
  return {
    state: n.outcome === 'failed' ? 'failed' : 'success',
    name: statusContext(d),
    description: clip(description(d, n), GITLAB_DESCRIPTION_MAX),
    ...(n.link ? { target_url: n.link } : {}),
  };
}
