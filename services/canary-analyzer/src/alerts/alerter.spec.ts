import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseCanary } from '@capstan/canary-core';
import { parseManifests } from '@capstan/gitops-core';
import { ObjectApi, createKubeConfig } from '@capstan/kube';
import { sharedCluster } from '@capstan/testing';
import { Cluster } from '../kube/cluster.js';
import { Alerter } from './alerter.js';

const NS = 'canary-alerts';
const TYPES = ['slack', 'msteams', 'discord', 'gchat', 'rocket', 'generic'] as const;

/**
 * AlertProviders read from the real API server, each posting to a local receiver playing the
 * chat system, which checks the body has that system's shape.
 */
describe('Alerter', () => {
  let server: Server;
  let base = '';
  const received = new Map<string, unknown>();
  let alerter: Alerter;

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.set(req.url ?? '', JSON.parse(body));
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const { kubeconfigPath } = await sharedCluster();
    const kc = createKubeConfig(kubeconfigPath);
    const api = ObjectApi.fromKubeConfig(kc);
    const path = fileURLToPath(
      new URL('../../../../deploy/capstan/flagger/crds/flagger.app_alertproviders.yaml', import.meta.url),
    );
    for (const { object } of parseManifests([{ path, content: await readFile(path, 'utf8') }]))
      await api.applyRaw(object, { fieldManager: 'capstan-tests' });
    await api.applyRaw(
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
      { fieldManager: 'capstan-tests' },
    );
    for (let i = 0; ; i++) {
      try {
        for (const t of TYPES)
          await api.applyRaw(
            {
              apiVersion: 'flagger.app/v1beta1',
              kind: 'AlertProvider',
              metadata: { name: t, namespace: NS },
              spec: { type: t, channel: 'deploys', username: 'capstan', address: `${base}/${t}` },
            } as never,
            { fieldManager: 'capstan-tests' },
          );
        break;
      } catch (e) {
        if (i > 50) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    alerter = new Alerter(new Cluster(kc, 'capstan-tests'));
  });

  after(async () => {
    await new Promise((r) => server.close(r));
  });

  const model = parseCanary({
    apiVersion: 'flagger.app/v1beta1',
    metadata: { name: 'podinfo', namespace: NS },
    spec: {
      targetRef: { kind: 'Deployment', name: 'podinfo' },
      service: { port: 9898 },
      analysis: {
        interval: '10s',
        stepWeight: 10,
        webhooks: [{ name: 'flaky', type: 'rollout', url: 'http://x/', muteAlert: true }],
        alerts: TYPES.map((t) => ({
          name: t,
          severity: t === 'generic' ? 'error' : 'info',
          providerRef: { name: t },
        })),
      },
    },
  });
  const rolledBack = {
    type: 'RolledBack' as const,
    at: '2026-12-04T10:00:00Z',
    reason: 'FailedChecksThreshold',
    message: 'Rolling back: canary failed checks threshold reached 5/5',
    weight: 20,
  };

  it('posts each provider its own shape', async () => {
    await alerter.notify(model, rolledBack, rolledBack.message);
    const slack = received.get('/slack') as {
      channel: string;
      username: string;
      attachments: { color: string; author_name: string; text: string }[];
    };
    assert.equal(slack.channel, 'deploys');
    assert.equal(slack.username, 'capstan');
    assert.equal(slack.attachments[0]?.author_name, `podinfo.${NS}`);
    assert.equal(slack.attachments[0].text, rolledBack.message);
    assert.equal(slack.attachments[0].color, '#a30200');
    // Discord takes Slack's body on its Slack-compatible endpoint; Rocket.Chat takes it as is.
    assert.deepEqual(received.get('/discord/slack'), slack);
    assert.deepEqual(received.get('/rocket'), slack);
    const teams = received.get('/msteams') as {
      '@type': string;
      sections: { activityTitle: string; facts: { name: string }[] }[];
    };
    assert.equal(teams['@type'], 'MessageCard');
    assert.equal(teams.sections[0]?.activityTitle, rolledBack.message);
    assert.deepEqual(
      teams.sections[0].facts.map((f) => f.name),
      ['Phase', 'Weight', 'Failed checks', 'Revision'],
    );
    const gchat = received.get('/gchat') as {
      cards: { header: { title: string }; sections: { widgets: { textParagraph?: { text: string } }[] }[] }[];
    };
    assert.equal(gchat.cards[0]?.header.title, `podinfo.${NS}`);
    assert.equal(gchat.cards[0].sections[0]?.widgets[0]?.textParagraph?.text, rolledBack.message);
    const generic = received.get('/generic') as {
      involvedObject: { kind: string; name: string };
      severity: string;
      reason: string;
      reportingController: string;
    };
    assert.deepEqual(generic.involvedObject, {
      kind: 'Canary',
      namespace: NS,
      name: 'podinfo',
      apiVersion: 'flagger.app/v1beta1',
    });
    assert.equal(generic.severity, 'error');
    assert.equal(generic.reason, 'RolledBack');
  });

  it('severity filters (error: failures only) and muteAlert on a webhook', async () => {
    received.clear();
    await alerter.notify(
      model,
      { type: 'WeightChanged', at: '2026-12-04T10:00:00Z', from: 10, to: 20, iterations: 0 },
      'Advance canary weight 20',
    );
    assert.ok(received.has('/slack'));
    assert.ok(!received.has('/generic'), 'an error-severity alert skips progress');
    received.clear();
    await alerter.notify(
      model,
      {
        type: 'CheckCompleted',
        at: '2026-12-04T10:00:00Z',
        stage: 'analysis',
        verdict: 'Fail',
        weight: 20,
        metrics: [],
        hooks: [
          {
            name: 'flaky',
            type: 'rollout',
            url: 'http://x/',
            ok: false,
            status: 500,
            message: 'boom',
            attempts: 1,
          },
        ],
        failedChecks: 1,
        inconclusiveChecks: 0,
        consecutiveErrors: 0,
      },
      'webhook flaky failed',
    );
    assert.equal(received.size, 0, 'a failure of a muted webhook alerts nobody');
  });
});
