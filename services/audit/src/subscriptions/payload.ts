import { toCDEvent, type CDEvent, type DecisionFacts } from '@capstan/events';
import type { ChainedDecision } from '../domain/decision-record.js';
import type { VisibleDecision } from '../domain/visibility.js';
import { decisionView, type DecisionView } from '../http/views.js';
import type { SubscriptionFormat } from './subscription.js';

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

/** A request body with the CloudEvents binary-mode headers that name it. */
export interface WebhookMessage {
  body: string;
  id: string;
  type: string;
  source: string;
}

/** The message for a subscription's format; null when a cdevents subscription has nothing to send. */
export function webhookMessage(d: ChainedDecision, format: SubscriptionFormat): WebhookMessage | null {
  switch (format) {
    case 'cloudevents': {
      const event = auditCloudEvent(d);
      return { body: JSON.stringify(event), id: event.id, type: event.type, source: event.source };
    }
    case 'cdevents': {
      const event = cdeventOf(d);
      return event
        ? {
            body: JSON.stringify(event),
            id: event.context.id,
            type: event.context.type,
            source: event.context.source,
          }
        : null;
    }
  }
}
