import { stableId } from './ids.js';
import type { DeployDecisionRecordedV1 } from './decision.js';

/**
 * CDEvents (https://cdevents.dev, spec 0.4) for Capstan decisions, so tools that already speak
 * CDEvents (Keptn, Tekton, DevLake, Backstage plugins...) understand deployments without knowing
 * Capstan. The mapping is pure: the same decision always gives the same CDEvent, id included.
 */
export const CDEVENTS_SPEC_VERSION = '0.4.1';

export const CDEVENT_SERVICE_DEPLOYED = 'dev.cdevents.service.deployed.0.2.0';
export const CDEVENT_SERVICE_UPGRADED = 'dev.cdevents.service.upgraded.0.2.0';
export const CDEVENT_SERVICE_REMOVED = 'dev.cdevents.service.removed.0.2.0';
export const CDEVENT_SERVICE_ROLLEDBACK = 'dev.cdevents.service.rolledback.0.2.0';

export type CDEventType =
  | typeof CDEVENT_SERVICE_DEPLOYED
  | typeof CDEVENT_SERVICE_UPGRADED
  | typeof CDEVENT_SERVICE_REMOVED
  | typeof CDEVENT_SERVICE_ROLLEDBACK;

/** The facts of a decision the mapping needs; both a decision event and an audit record provide them. */
export interface DecisionFacts {
  /** The decision's CloudEvent id. */
  eventId: string;
  /** A DecisionAction; a string so records of actions newer than this library still map (to nothing). */
  action: string;
  outcome: string;
  time: string;
  cluster: string;
  decidedBy: { kind: string; namespace: string; name: string };
  changeSet: readonly { action: string }[];
  source: { url: string; repository: string; sha: string; revision: string } | null;
  image: { repository: string; tag: string; digest?: string | undefined } | null;
  /** Capstan's own CloudEvent attributes, carried along for correlation. */
  correlationId?: string | null;
}

export interface CDEvent {
  context: {
    version: typeof CDEVENTS_SPEC_VERSION;
    id: string;
    source: string;
    type: CDEventType;
    timestamp: string;
    chainId?: string;
  };
  subject: {
    id: string;
    source: string;
    type: 'service';
    content: {
      environment: { id: string; source: string };
      artifactId?: string;
    };
  };
  customData: {
    capstan: {
      decisionId: string;
      action: string;
      revision: string | null;
      decidedBy: { kind: string; namespace: string; name: string };
    };
  };
  customDataContentType: 'application/json';
}

/**
 * Which CDEvent a decision is, or null when CDEvents has no event for it.
 * Only actions that changed what runs are service events; everything else (failures, drift,
 * canary steps, image policy updates) has no CDEvents service counterpart and stays Capstan-only.
 */
export function cdeventTypeFor(
  decision: Pick<DecisionFacts, 'action' | 'outcome' | 'changeSet'>,
): CDEventType | null {
  if (decision.outcome === 'failed') return null;
  switch (decision.action) {
    case 'applied': {
      if (decision.outcome === 'noop') return null;
      const changed = decision.changeSet.filter((c) => c.action !== 'unchanged' && c.action !== 'skipped');
      if (changed.length === 0) return null;
      // Only a first install creates every object; anything configured or deleted means it existed.
      return changed.every((c) => c.action === 'created')
        ? CDEVENT_SERVICE_DEPLOYED
        : CDEVENT_SERVICE_UPGRADED;
    }
    case 'pruned':
      return CDEVENT_SERVICE_REMOVED;
    case 'canary.rolled-back':
      return CDEVENT_SERVICE_ROLLEDBACK;
    case 'canary.promoted':
      return CDEVENT_SERVICE_UPGRADED;
    default:
      return null;
  }
}

/** The CDEvent for a decision, or null (see cdeventTypeFor). */
export function toCDEvent(decision: DecisionFacts): CDEvent | null {
  const type = cdeventTypeFor(decision);
  if (type === null) return null;
  const d = decision.decidedBy;
  const artifactId = artifactIdOf(decision);
  return {
    context: {
      version: CDEVENTS_SPEC_VERSION,
      // Deterministic, so a republish is dropped by JetStream's duplicate window and receivers can dedupe.
      id: cdeventId(decision.eventId),
      source: `/capstan/${decision.cluster}`,
      type,
      timestamp: decision.time,
      ...(decision.correlationId ? { chainId: decision.correlationId } : {}),
    },
    subject: {
      id: `${d.namespace}/${d.name}`,
      source: `/capstan/${decision.cluster}/${d.kind}`,
      type: 'service',
      content: {
        environment: { id: decision.cluster, source: `/capstan/${decision.cluster}` },
        // service.removed has no artifact; the other three require one.
        ...(type === CDEVENT_SERVICE_REMOVED || artifactId === null ? {} : { artifactId }),
      },
    },
    customData: {
      capstan: {
        decisionId: decision.eventId,
        action: decision.action,
        revision: decision.source?.revision ?? null,
        decidedBy: { kind: d.kind, namespace: d.namespace, name: d.name },
      },
    },
    customDataContentType: 'application/json',
  };
}

export const cdeventId = (decisionEventId: string): string => stableId('cdevent', decisionEventId);

/**
 * A package URL for what was deployed: the image when the decision names one (purl type `oci`),
 * otherwise the Git commit (purl type `generic` with `vcs_url`, as purl has no generic git type).
 */
export function artifactIdOf(decision: Pick<DecisionFacts, 'image' | 'source'>): string | null {
  if (decision.image) {
    const { repository, tag, digest } = decision.image;
    const slash = repository.lastIndexOf('/');
    const name = slash >= 0 ? repository.slice(slash + 1) : repository;
    const version = digest ? `@${encodeURIComponent(digest)}` : '';
    const query = new URLSearchParams({ repository_url: repository, tag });
    return `pkg:oci/${name}${version}?${query.toString()}`;
  }
  if (decision.source) {
    const name = decision.source.repository.split('/').map(encodeURIComponent).join('/');
    return `pkg:generic/${name}@${decision.source.sha}?vcs_url=${encodeURIComponent(`git+${decision.source.url}@${decision.source.sha}`)}`;
  }
  return null;
}

/** The facts of a decision event as published on `<prefix>.decisions.>`. */
export function decisionFactsOf(event: DeployDecisionRecordedV1): DecisionFacts {
  const d = event.data;
  return {
    eventId: event.id,
    action: d.action,
    outcome: d.outcome,
    time: d.decidedAt,
    cluster: d.cluster,
    decidedBy: d.decidedBy,
    changeSet: d.changeSet,
    source: d.source ?? null,
    image: d.image ?? null,
    correlationId: event.correlationid ?? null,
  };
}
