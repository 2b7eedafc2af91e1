// Notifications end to end: a pushed commit is deployed by the git-watcher and the reconciler,
// the audit service records the decision and sends it to Slack, Microsoft Teams, Discord and
// Google Chat incoming webhooks and to the GitHub and GitLab commit-status APIs. The services
// are played by one local receiver that checks each request as the service documents it
// (shape, field limits, auth) and refuses anything else; a broken commit then turns its commit
// status to failure.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAudit } from '@capstan/audit';
import { NotificationReceiver, type ReceiverKind } from '@capstan/audit/testing';
import { CapstanResources, createKubeConfig } from '@capstan/kube';
import type { StartedService } from '@capstan/platform';
import { GitRepo, type Person } from './support/git-repo.js';
import { applyYaml } from './support/kube.js';
import { Platform } from './support/platform.js';
import { repositoryAndSync } from './support/sync-yaml.js';
import { waitFor } from './support/wait.js';

const ada: Person = { name: 'Ada Lovelace', email: 'ada@example.com' };
const API_TOKEN = 'e2e-api-token';
const CONSOLE_URL = 'https://capstan.example.com';

describe('notifications: chat formats and commit statuses', { timeout: 300_000 }, () => {
  const id = randomBytes(3).toString('hex');
  const appNs = `e2e-notify-app-${id}`;
  const subsNs = `e2e-notify-${id}`;
  const name = `notify-${id}`;
  let platform: Platform;
  let audit: StartedService | undefined;
  let repo: GitRepo;
  let receiver: NotificationReceiver;
  let resources: CapstanResources;
  let sha = '';

  const subscription = (sub: string, format: string, url: string, secret = false) =>
    `apiVersion: capstan.dev/v1alpha1
kind: Subscription
metadata: {name: ${sub}, namespace: ${subsNs}}
spec:
  url: ${url}
  format: ${format}
  filter: {syncs: [default/${name}]}
${secret ? '  secretRef: {name: api-token}\n' : ''}`;

  before(async () => {
    platform = await Platform.start();
    resources = new CapstanResources(createKubeConfig(platform.kubeconfigPath));
    repo = await GitRepo.create(join(tmpdir(), `capstan-e2e-notify-${id}`));
    receiver = await NotificationReceiver.start(API_TOKEN);
    await platform.stopAudit();
    audit = await startAudit({
      ...platform.env,
      AUDIT_SUBSCRIPTIONS: 'enabled',
      CONSOLE_URL,
      // The Subscription lives in its own namespace and follows a Sync in `default`: a
      // cross-namespace reference, which this installation allows (off by default).
      ALLOW_CROSS_NAMESPACE_REFS: 'true',
      WEBHOOK_BACKOFF_BASE_MS: '100',
      WEBHOOK_BACKOFF_MAX_MS: '1000',
      WEBHOOK_POLL_MS: '50',
    });
    await applyYaml(
      platform.api,
      `apiVersion: v1
kind: Namespace
metadata: {name: ${subsNs}}
---
apiVersion: v1
kind: Secret
metadata: {name: api-token, namespace: ${subsNs}}
stringData: {token: ${API_TOKEN}}
---
${subscription('slack', 'slack', receiver.url('/slack/services/T0/B0/x'))}---
${subscription('teams', 'msteams', receiver.url('/msteams/workflows/x'))}---
${subscription('discord', 'discord', receiver.url('/discord/api/webhooks/1/x'))}---
${subscription('gchat', 'googlechat', receiver.url('/googlechat/v1/spaces/S/messages?key=k'))}---
${subscription('github', 'github', receiver.url('/github/repos/team/config'), true)}---
${subscription('gitlab', 'gitlab', receiver.url('/gitlab/api/v4/projects/team%2Fconfig'), true)}`,
    );
    await repo.write({
      'deploy/app.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${appNs}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: greeting, namespace: ${appNs}}\ndata: {greeting: hello}\n`,
    });
    sha = repo.commit('Deploy the greeting', ada);
    await applyYaml(platform.api, repositoryAndSync(name, repo.url, './deploy'));
    await waitFor('Sync applied', async () => {
      const s = await resources.get('Sync', 'default', name);
      return s.status?.lastAppliedRevision === `main@sha1:${sha}` ? s : undefined;
    });
  });

  after(async () => {
    await audit?.close();
    await receiver.close();
    await platform.stop();
    await repo.remove();
    for (const ns of [appNs, subsNs])
      await platform.api
        .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })
        .catch(() => undefined);
    for (const kind of ['Sync', 'GitRepository'])
      await platform.api
        .delete({ apiVersion: 'capstan.dev/v1alpha1', kind, metadata: { name, namespace: 'default' } })
        .catch(() => undefined);
  });

  const deployLink = async (): Promise<string> => {
    const res = await fetch(
      `http://127.0.0.1:${audit?.port ?? 0}/api/v1/decisions?sync=default/${name}&action=applied&limit=1`,
      { headers: { authorization: `Bearer ${platform.auditToken}` } },
    );
    const page = (await res.json()) as { items: { correlationId: string | null }[] };
    const correlationId = page.items[0]?.correlationId;
    assert.ok(correlationId, 'the applied decision has a correlation id');
    return `${CONSOLE_URL}/console/deploys/${encodeURIComponent(correlationId)}`;
  };

  for (const kind of ['slack', 'msteams', 'discord', 'googlechat'] as ReceiverKind[]) {
    it(`${kind}: the service accepts the message, which says what, where, which commit, who, and links to the deploy`, async () => {
      const request = await waitFor(`the ${kind} message`, () => receiver.accepted(kind)[0]);
      const text = JSON.stringify(request.body);
      assert.match(text, /applied/, 'what');
      assert.match(text, new RegExp(`Sync default/${name} on e2e`), 'where');
      assert.ok(text.includes(`main@sha1:${sha}`), 'which commit');
      assert.match(text, /Deploy the greeting/, 'the commit message');
      assert.match(text, /Ada Lovelace/, 'who');
      assert.ok(text.includes(await deployLink()), 'a link to the console deploy page');
      assert.deepEqual(
        receiver.refused().filter((r) => r.kind === kind),
        [],
        'the receiver refused none',
      );
    });
  }

  it('GitHub and GitLab: the deployed commit gets a success status per Sync, with the token the Secret holds', async () => {
    const context = `capstan/sync/default/${name}@e2e`;
    const status = await waitFor('both commit statuses', () => {
      const found = receiver.statuses.filter((s) => s.sha === sha && s.repository === 'team/config');
      return found.length === 2 ? found : undefined;
    });
    assert.deepEqual(status.map((s) => s.service).sort(), ['github', 'gitlab']);
    for (const s of status) {
      assert.equal(s.state, 'success');
      assert.equal(s.context, context);
      assert.equal(s.targetUrl, await deployLink());
      assert.match(s.description, /^applied on e2e: /);
    }
    assert.deepEqual(receiver.refused(), [], 'no request refused (auth, path or shape)');
  });

  it('a commit that fails to build turns its commit status to failure and says so in chat', async () => {
    await repo.write({ 'deploy/broken.yaml': 'kind: [unclosed\n' });
    const broken = repo.commit('Break the build', ada);
    const [github, gitlab] = await waitFor('failure statuses for the broken commit', () => {
      const gh = receiver.statuses.find((s) => s.sha === broken && s.state === 'failure');
      const gl = receiver.statuses.find((s) => s.sha === broken && s.state === 'failed');
      return gh && gl ? [gh, gl] : undefined;
    });
    assert.match(github.description, /^failed on e2e: BuildFailed/);
    assert.match(gitlab.description, /^failed on e2e: BuildFailed/);
    const slack = await waitFor('the Slack message of the failure', () =>
      receiver.accepted('slack').find((r) => JSON.stringify(r.body).includes(broken)),
    );
    assert.match(JSON.stringify(slack.body), /❌/);
    assert.deepEqual(receiver.refused(), []);
  });
});
