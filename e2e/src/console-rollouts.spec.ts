/// <reference lib="dom" />
// The Rollouts page's buttons in a real browser (Debian's chromium, headless, playwright-core)
// on a real canary: the canary-analyzer drives a Flagger Canary over the loopback data plane
// (podinfo processes, HAProxy, Prometheus), held at WaitingPromotion by a confirm-promotion gate.
// A release manager, a ServiceAccount with RBAC `patch` on canaries in that namespace only, logs
// into the console with a token and clicks Abort, Retry and Promote. Each click goes through the
// page's own fetch with the session cookie and the CSRF token; the Canary follows, and the audit
// log records the release manager as each decision's actor. With CONSOLE_SCREENSHOTS=<dir>, the
// page is saved there (docs/console.md shows it).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { BrowserContext, Page } from 'playwright-core';
import { createKubeConfig } from '@capstan/kube';
import { CanaryStage, generateLoad, testCanary } from './support/canary-stage.js';
import { applyYaml } from './support/kube.js';
import { launchConsoleBrowser } from './support/console-browser.js';
import { waitFor } from './support/wait.js';

const NS = 'console-rollouts';
const screenshots = process.env['CONSOLE_SCREENSHOTS'];
const person = `system:serviceaccount:${NS}:release-manager`;

describe('the Rollouts page drives a real canary from the browser', { timeout: 600_000 }, () => {
  let stage: CanaryStage;
  let profile: string;
  let browser: BrowserContext;
  let token = '';
  let stopLoad: (() => Promise<void>) | undefined;

  before(async () => {
    if (screenshots) await mkdir(screenshots, { recursive: true });
    profile = await mkdtemp(join(tmpdir(), 'capstan-e2e-chromium-rollouts-'));
    stage = await CanaryStage.start(NS);
    await stage.startAnalyzer({ MIN_INTERVAL: '1s' });

    // The release manager: reads the audit log of this namespace and may command its canaries.
    const kc = createKubeConfig(stage.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedServiceAccount({
      namespace: NS,
      body: { metadata: { name: 'release-manager' } },
    });
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: NS,
      body: {
        metadata: { name: 'release-manager' },
        rules: [
          { apiGroups: ['flagger.app'], resources: ['canaries'], verbs: ['patch'] },
          { apiGroups: ['audit.capstan.dev'], resources: ['decisions'], verbs: ['get'] },
        ],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: NS,
      body: {
        metadata: { name: 'release-manager' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'release-manager' },
        subjects: [{ kind: 'ServiceAccount', name: 'release-manager', namespace: NS }],
      },
    });
    token =
      (
        await core.createNamespacedServiceAccountToken({
          namespace: NS,
          name: 'release-manager',
          body: { spec: { audiences: [], expirationSeconds: 3600 } },
        })
      ).status?.token ?? '';
    assert.ok(token);

    // A rollout that reaches its last step and waits for a person: the gate stays shut.
    await stage.deployPodinfo('web', '1.0.0');
    await applyYaml(
      stage.api,
      testCanary({
        name: 'web',
        namespace: NS,
        webhooks: `      - {name: gate, type: confirm-promotion, url: "http://flagger-loadtester.${NS}/gate/halt"}\n`,
      }),
    );
    await stage.waitPhase('web', ['Initialized'], 90_000);
    stopLoad = generateLoad(stage, 'web-canary');
    await stage.deployPodinfo('web', '1.0.1');
    await stage.waitPhase('web', ['WaitingPromotion'], 120_000);

    browser = await launchConsoleBrowser(profile);
  });

  after(async () => {
    // Whatever `before` got to start, even if it failed half way.
    await (browser as BrowserContext | undefined)?.close();
    await stopLoad?.();
    await (stage as CanaryStage | undefined)?.stop();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  /** Clicks a command button and returns the request the page sent and the answer's status. */
  const click = async (page: Page, verb: string) => {
    const answered = page.waitForResponse(
      (r) => r.request().method() === 'POST' && r.url().includes(`/api/v1/canaries/${NS}/web/${verb}`),
    );
    await page
      .locator(`[data-canary="${NS}/web"]`)
      .getByRole('button', { name: `${verb} ${NS}/web` })
      .click();
    const response = await answered;
    return { request: response.request(), status: response.status() };
  };

  it('a release manager aborts, retries and promotes with the buttons; the log names them', async () => {
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(`${stage.auditUrl}/console/rollouts`);
    await page.getByLabel('Kubernetes bearer token').fill(token);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('navigation', { name: 'Console' }).waitFor();
    assert.equal(await page.locator('.username').textContent(), person);
    const card = page.locator(`[data-canary="${NS}/web"]`);
    await card.waitFor();
    assert.match((await card.textContent()) ?? '', /WaitingPromotion/);
    // The analysis so far, from the audit log: real request-success-rate values from Prometheus.
    const passed = page
      .getByRole('table', { name: 'Metric checks' })
      .filter({ hasText: /≥ 99pass/ })
      .first();
    await passed.waitFor();
    assert.match((await passed.textContent()) ?? '', /request-success-rate\d/);
    assert.deepEqual(await card.getByRole('button').allTextContents(), [
      'Promote',
      'Abort',
      'Retry',
      'Pause',
      'Resume',
    ]);
    if (screenshots)
      await page.screenshot({ path: join(screenshots, 'rollouts-canary.png'), fullPage: true });

    // CSRF is in play on this very endpoint: the session cookie alone changes nothing.
    const csrf = await page.evaluate(
      async () => ((await (await fetch('/console/api/session')).json()) as { csrfToken: string }).csrfToken,
    );
    assert.ok(csrf);
    const forged = await page.evaluate(
      async (path) => (await fetch(path, { method: 'POST' })).status,
      `/api/v1/canaries/${NS}/web/abort`,
    );
    assert.equal(forged, 403, 'no CSRF token: refused');
    assert.equal((await stage.canary('web')).phase, 'WaitingPromotion', 'the refused abort did nothing');

    // Abort: the canary's traffic goes back to the primary.
    const abort = await click(page, 'abort');
    assert.equal(abort.status, 200);
    assert.equal(await abort.request.headerValue('x-csrf-token'), csrf, 'the page sent the CSRF token');
    assert.equal(await abort.request.headerValue('authorization'), null, 'the cookie, not a bearer token');
    const aborted = await stage.waitPhase('web', ['Failed'], 30_000);
    assert.equal(aborted.canaryWeight, 0);
    // The page follows the Canary: not Ready, no traffic to the canary.
    await card.locator('.badge-bad').waitFor({ timeout: 30_000 });
    await card.getByRole('progressbar', { name: 'canary weight 0%' }).waitFor({ timeout: 30_000 });

    // Retry: the same revision is analysed again.
    assert.equal((await click(page, 'retry')).status, 200);
    await stage.waitPhase('web', ['Progressing', 'WaitingPromotion'], 30_000);

    // Promote: past the shut gate, on the person's word.
    assert.equal((await click(page, 'promote')).status, 200);
    await stage.waitPhase('web', ['Succeeded'], 90_000);
    await card.locator('.badge-ok').waitFor({ timeout: 30_000 });

    const decisions = await waitFor('the person’s decisions audited', async () => {
      const d = await stage.decisions('web');
      return d.some((x) => x.reason === 'PromotedManually') ? d : undefined;
    });
    assert.deepEqual(
      decisions.filter((d) => d.actor.name === person).map((d) => `${d.action}:${d.reason}`),
      ['canary.aborted:Aborted', 'canary.started:Retried', 'canary.advanced:PromotedManually'],
    );
    // The page shows them too, with the person (it polls: a namespace-scoped person gets no stream).
    const steps = page.getByRole('region', { name: 'Canary decisions' });
    await waitFor(
      'the promotion by the person on the page',
      async () =>
        ((await steps.textContent()) ?? '').match(new RegExp(`${person} · PromotedManually`)) ?? undefined,
      45_000,
    );
  });
});
