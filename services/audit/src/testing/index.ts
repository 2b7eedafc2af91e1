// Builders for tests and benchmarks outside the service (`@capstan/audit/testing`).
export { ada, decisionEvent, deployment, grace, sha, type DecisionEventSpec } from './decision-events.js';
export {
  DiscordWebhookBody,
  GitHubStatusRequest,
  GitLabStatusRequest,
  GoogleChatWebhookBody,
  NotificationReceiver,
  SlackWebhookBody,
  TeamsWebhookBody,
  type ReceivedRequest,
  type ReceiverKind,
  type StoredStatus,
} from './notification-receiver.js';
