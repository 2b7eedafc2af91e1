import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChainedDecision } from '../../domain/decision-record.js';
import { toDecisionRecord } from '../../domain/to-decision-record.js';
import { decisionEvent, deployment, sha, type DecisionEventSpec } from '../../testing/decision-events.js';
import {
  DiscordWebhookBody,
  GitHubStatusRequest,
  GitLabStatusRequest,
  GoogleChatWebhookBody,
  SlackWebhookBody,
  TeamsWebhookBody,
} from '../../testing/notification-receiver.js';
import { webhookMessage } from '../payload.js';
import { InvalidSubscriptionError, parseSubscription } from '../subscription.js';
import { messageHeaders } from '../webhook-sender.js';
import { deployNotice } from './deploy-notice.js';

const CONSOLE = 'https://capstan.example.com/';

function chained(spec: DecisionEventSpec): ChainedDecision {
  const record = toDecisionRecord(decisionEvent(spec), {
    id: '01936f00-0000-7000-8000-0000000000aa',
    recordedAt: new Date('2026-11-22T10:00:01Z'),
  });
  return { ...record, seq: 42n, prevHash: '0'.repeat(64), hash: 'a'.repeat(64) };
}

const deploy = chained({
  id: 'e1',
  commit: 7,
  message: 'Bump web to 1.2\n\nlong body',
  targets: [deployment('web')],
  changeSet: [
    { ...deployment('web'), action: 'configured' },
    { ...deployment('db'), action: 'created' },
  ],
});

const bodyOf = (format: Parameters<typeof webhookMessage>[1], d = deploy) => {
  const m = webhookMessage(d, format, { consoleUrl: CONSOLE });
  assert.ok(m, `${format} has a message`);
  return JSON.parse(m.body) as unknown;
};

void describe('deploy notice', () => {
  void it('says what, where, which commit, who, and links to the console deploy page', () => {
    const n = deployNotice(deploy, CONSOLE);
    assert.equal(n.what, 'applied: 1 configured, 1 created');
    assert.equal(n.where, 'Sync flux-system/shop on local');
    assert.equal(n.commit, `main@sha1:${sha(7)} "Bump web to 1.2"`);
    assert.equal(n.who, 'Ada Lovelace <ada@example.com> (commit-author)');
    assert.equal(n.link, 'https://capstan.example.com/console/deploys/corr-e1');
    assert.match(n.headline, /^✅ applied flux-system\/shop \(Sync flux-system\/shop\) on local$/);
    assert.deepEqual(n.objects, ['Deployment shop/web (configured)', 'Deployment shop/db (created)']);
  });

  void it('names at most five objects and counts the rest; no link without a console URL', () => {
    const many = chained({
      id: 'e2',
      outcome: 'failed',
      action: 'failed',
      changeSet: Array.from({ length: 8 }, (_, i) => ({ ...deployment(`w${i}`), action: 'configured' })),
    });
    const n = deployNotice(many, undefined);
    assert.equal(n.objects.length, 5);
    assert.equal(n.more, 3);
    assert.equal(n.link, null);
    assert.equal(n.outcome, 'failed');
    assert.match(n.headline, /^❌/);
  });
});

void describe('chat formats', () => {
  void it('Slack: a message its incoming webhook accepts, with the link in mrkdwn', () => {
    const body = SlackWebhookBody.parse(bodyOf('slack'));
    const text = JSON.stringify(body.blocks);
    assert.match(
      text,
      /<https:\/\/capstan\.example\.com\/console\/deploys\/corr-e1\|Open the deploy in Capstan>/,
    );
    assert.match(text, /Ada Lovelace &lt;ada@example.com&gt;/, 'mrkdwn control characters escaped');
  });

  void it('Microsoft Teams: an Adaptive Card with the facts and an OpenUrl action', () => {
    const body = TeamsWebhookBody.parse(bodyOf('msteams'));
    const card = body.attachments[0]!.content;
    const facts = card.body.find((b) => b.type === 'FactSet');
    assert.deepEqual(facts && 'facts' in facts ? facts.facts.map((f) => f.title) : [], [
      'What',
      'Where',
      'Commit',
      'Who',
      'Objects',
    ]);
    assert.equal(card.actions?.[0]?.url, 'https://capstan.example.com/console/deploys/corr-e1');
  });

  void it('Discord: one embed linking to the deploy, mentions disabled', () => {
    const body = DiscordWebhookBody.parse(bodyOf('discord'));
    assert.equal(body.embeds?.[0]?.url, 'https://capstan.example.com/console/deploys/corr-e1');
    assert.deepEqual(body.allowed_mentions, { parse: [] });
  });

  void it('Google Chat: a cardsV2 card with a button to the deploy', () => {
    const body = GoogleChatWebhookBody.parse(bodyOf('googlechat'));
    assert.match(
      JSON.stringify(body.cardsV2),
      /"url":"https:\/\/capstan\.example\.com\/console\/deploys\/corr-e1"/,
    );
  });

  void it('chat messages are signed but carry no CloudEvents headers', () => {
    const m = webhookMessage(deploy, 'slack', {})!;
    const headers = messageHeaders(m, 'key');
    assert.match(headers['x-capstan-signature'] ?? '', /^sha256=[0-9a-f]{64}$/);
    assert.equal(headers['ce-id'], undefined);
  });
});

void describe('commit statuses', () => {
  void it('GitHub: success on the commit, one context per Sync and cluster, token as Bearer', () => {
    const m = webhookMessage(deploy, 'github', { consoleUrl: CONSOLE })!;
    assert.equal(m.path, `/statuses/${sha(7)}`);
    const body = GitHubStatusRequest.parse(JSON.parse(m.body));
    assert.equal(body.state, 'success');
    assert.equal(body.context, 'capstan/sync/flux-system/shop@local');
    assert.equal(body.target_url, 'https://capstan.example.com/console/deploys/corr-e1');
    assert.equal(messageHeaders(m, 't0ken')['authorization'], 'Bearer t0ken');
    assert.equal(
      messageHeaders(m, 't0ken')['x-capstan-signature'],
      undefined,
      'the token is never an HMAC key',
    );
  });

  void it('GitLab: failed for a failed decision, description within 255 characters, PRIVATE-TOKEN', () => {
    const failed = chained({ id: 'e3', action: 'failed', outcome: 'failed', commit: 9, message: 'x' });
    failed.message = 'y'.repeat(400);
    const m = webhookMessage(failed, 'gitlab', {})!;
    const body = GitLabStatusRequest.parse(JSON.parse(m.body));
    assert.equal(body.state, 'failed');
    assert.equal(body.description?.length, 255);
    assert.equal(body.target_url, undefined);
    assert.equal(messageHeaders(m, 't0ken')['private-token'], 't0ken');
  });

  void it('nothing to send for a decision without a commit', () => {
    const drift = chained({ id: 'e4', action: 'drift.corrected', withoutSource: true });
    assert.equal(webhookMessage(drift, 'github', {}), null);
    assert.equal(webhookMessage(drift, 'gitlab', {}), null);
    assert.ok(webhookMessage(drift, 'slack', {}));
  });
});

void describe('Subscription spec', () => {
  const resource = (spec: unknown) => ({
    apiVersion: 'capstan.dev/v1alpha1',
    kind: 'Subscription' as const,
    metadata: { name: 'prs', namespace: 'team' },
    spec,
  });

  void it('github and gitlab need the secret that holds the API token, named in the error', () => {
    assert.throws(
      () => parseSubscription(resource({ url: 'https://api.github.com/repos/o/r', format: 'github' })),
      (e: unknown) =>
        e instanceof InvalidSubscriptionError &&
        e.message ===
          'Subscription team/prs: spec.secretRef is required by the github and gitlab formats (the API token is its key `token`)',
    );
    const ok = parseSubscription(
      resource({ url: 'https://api.github.com/repos/o/r', format: 'github', secretRef: { name: 'gh' } }),
    );
    assert.equal(ok.format, 'github');
  });

  void it('refuses an unknown format, naming the field', () => {
    assert.throws(
      () => parseSubscription(resource({ url: 'https://hooks.slack.com/x', format: 'irc' })),
      /spec\.format/,
    );
  });
});
