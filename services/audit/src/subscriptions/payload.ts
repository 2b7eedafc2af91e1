import { toCDEvent, type CDEvent, type DecisionFacts } from '@capstan/events';
import type { ChainedDecision } from '../domain/decision-record.js';
import type { VisibleDecision } from '../domain/visibility.js';
import { decisionView, type DecisionView } from '../http/views.js';
import type { SubscriptionFormat } from './subscription.js';
import { discordMessage, googleChatMessage, slackMessage, teamsMessage } from './formats/chat-messages.js';
import { githubStatus, gitlabStatus } from './formats/commit-status.js';
import { deployNotice } from './formats/deploy-notice.js';

/** The CloudEvent type of a decision as the audit log sends it (webhooks, SSE): the record, with seq and hash. */
export const AUDIT_DECISION_TYPE = 'dev.capstan.audit.decision.v1';

export interface AuditDecisionCloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: typeof AUDIT_DECISION_TYPE;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  /** Extension attribute: the decision's position in the audit log (resume/ordering). */
  capstanseq: number;
  correlationid?: string;
  traceparent?: string;
  data: DecisionView;
}

/**
 * The decision as a CloudEvent. The id is the original decision event's id, so a replayed
 * delivery carries the same id and receivers can deduplicate.
 */
export function auditCloudEvent(d: VisibleDecision): AuditDecisionCloudEvent {
  return {
    specversion: '1.0',
    id: d.eventId,
    source: d.eventSource,
    type: AUDIT_DECISION_TYPE,
    subject: `${d.decidedBy.kind}/${d.decidedBy.namespace}/${d.decidedBy.name}`,
    time: d.time.toISOString(),
    datacontenttype: 'application/json',
    capstanseq: Number(d.seq),
    ...(d.correlationId ? { correlationid: d.correlationId } : {}),
    ...(d.traceparent ? { traceparent: d.traceparent } : {}),
    data: decisionView(d),
  };
}

export function decisionFacts(d: ChainedDecision): DecisionFacts {
  const image = d.image as { repository?: unknown; tag?: unknown; digest?: unknown } | null;
  return {
    eventId: d.eventId,
    action: d.action,
    outcome: d.outcome,
    time: d.time.toISOString(),
    cluster: d.cluster,
    decidedBy: d.decidedBy,
    changeSet: d.changeSet as { action: string }[],
    source: d.source,
    image:
      image && typeof image.repository === 'string' && typeof image.tag === 'string'
        ? {
            repository: image.repository,
            tag: image.tag,
            ...(typeof image.digest === 'string' ? { digest: image.digest } : {}),
          }
        : null,
    correlationId: d.correlationId,
  };
}

export const cdeventOf = (d: ChainedDecision): CDEvent | null => toCDEvent(decisionFacts(d));

/** A request: its body, how it is sent and what the CloudEvents binary-mode headers name. */
export interface WebhookMessage {
  body: string;
  id: string;
  type: string;
  source: string;
  /**
   * `cloudevent`: ce-* headers, HMAC-signed with the secret. `chat`: a chat service's webhook
   * body, HMAC-signed too (chat services ignore the header). `github`/`gitlab`: a commit-status
   * API call authenticated with the secret as the token.
   */
  delivery: 'cloudevent' | 'chat' | 'github' | 'gitlab';
  /** Appended to the subscription's URL (`/statuses/<sha>` for commit statuses); usually empty. */
  path: string;
}

/** What every message of one audit service shares. */
export interface MessageContext {
  /** The console's base URL, for links to a deploy's page; unset means messages carry no link. */
  consoleUrl?: string | undefined;
}

/**
 * The message for a subscription's format; null when the format has nothing to send for this
 * decision (no CDEvent for it, or no commit to set a status on).
 */
export function webhookMessage(
  d: ChainedDecision,
  format: SubscriptionFormat,
  context: MessageContext = {},
): WebhookMessage | null {
  const named = { id: d.eventId, type: AUDIT_DECISION_TYPE, source: d.eventSource };
  const json = (body: unknown, delivery: WebhookMessage['delivery'], path = ''): WebhookMessage => ({
    ...named,
    body: JSON.stringify(body),
    delivery,
    path,
  });
  switch (format) {
    case 'cloudevents': {
      const event = auditCloudEvent(d);
      return { ...json(event, 'cloudevent'), id: event.id, type: event.type, source: event.source };
    }
    case 'cdevents': {
      const event = cdeventOf(d);
      return event
        ? {
            ...json(event, 'cloudevent'),
            id: event.context.id,
            type: event.context.type,
            source: event.context.source,
          }
        : null;
    }
    case 'slack':
      return json(slackMessage(deployNotice(d, context.consoleUrl)), 'chat');
    case 'msteams':
      return json(teamsMessage(deployNotice(d, context.consoleUrl)), 'chat');
    case 'discord':
      return json(discordMessage(deployNotice(d, context.consoleUrl)), 'chat');
    case 'googlechat':
      return json(googleChatMessage(deployNotice(d, context.consoleUrl), d.eventId), 'chat');
    case 'github':
      return d.source
        ? json(githubStatus(d, deployNotice(d, context.consoleUrl)), 'github', `/statuses/${d.source.sha}`)
        : null;
    case 'gitlab':
      return d.source
        ? json(gitlabStatus(d, deployNotice(d, context.consoleUrl)), 'gitlab', `/statuses/${d.source.sha}`)
        : null;
  }
}
