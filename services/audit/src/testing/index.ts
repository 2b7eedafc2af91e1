// Builders for tests and benchmarks outside the service (`@capstan/audit/testing`).
export { ada, decisionEvent, deployment, grace, sha, type DecisionEventSpec } from './decision-events.js';
