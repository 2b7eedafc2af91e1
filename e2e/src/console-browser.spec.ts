/// <reference lib="dom" />
// The web console in a real browser: Debian's chromium, headless, driven by playwright-core,
// against a running Capstan (git-watcher, reconciler and audit on the real API server, NATS and
// Postgres). A person logs in once with a Kubernetes token (TokenReview), which lives only in an
// HttpOnly, SameSite=Strict session cookie; every page then reads the audit API through it, and
// SubjectAccessReview trims what a namespace-scoped viewer sees. 10,000 decisions scroll through
// virtual scrolling and cursor paging. With CONSOLE_SCREENSHOTS=<dir>, each page is saved there
// (docs/console.md shows them).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { BrowserContext, Page } from 'playwright-core';
import { decisionEvent, deployment } from '@capstan/audit/testing';
import { topology } from '@capstan/events';
import { CapstanResources, createKubeConfig } from '@capstan/kube';
import { connectBus, type Bus } from '@capstan/messaging';
import { GitRepo, type Person } from './support/git-repo.js';
import { applyYaml } from './support/kube.js';
import { Platform } from './support/platform.js';
import { repositoryAndSync } from './support/sync-yaml.js';
import { launchConsoleBrowser } from './support/console-browser.js';
import { waitFor } from './support/wait.js';

const ada: Person = { name: 'Ada Lovelace', email: 'ada@example.com' };
const grace: Person = { name: 'Grace Hopper', email: 'grace@example.com' };
const BULK = 10_000;
const screenshots = process.env['CONSOLE_SCREENSHOTS'];

describe('the web console in headless chromium', { timeout: 600_000 }, () => {
  const id = randomBytes(3).toString('hex');
  const appNs = `e2e-console-${id}`;
  const teamNs = `e2e-console-team-${id}`;
  const bulkNs = `e2e-console-bulk-${id}`;
  const name = `console-${id}`;
  let platform: Platform;
  let repo: GitRepo;
  let bus: Bus;
  let profiles: string;
  let browser: BrowserContext;
  let viewerToken = '';
  let firstSha = '';

  const open = async (ctx: BrowserContext, path: string): Promise<Page> => {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.goto(`${platform.auditUrl}${path}`);
    return page;
  };
  const shot = async (page: Page, file: string) => {
    if (screenshots) await page.screenshot({ path: join(screenshots, file), fullPage: true });
  };
  const launch = (dir: string) => launchConsoleBrowser(join(profiles, dir));
  const login = async (page: Page, token: string) => {
    await page.getByLabel('Kubernetes bearer token').fill(token);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('navigation', { name: 'Console' }).waitFor();
  };

  before(async () => {
    if (screenshots) await mkdir(screenshots, { recursive: true });
    profiles = await mkdtemp(join(tmpdir(), 'capstan-e2e-chromium-'));
    platform = await Platform.start();
    const resources = new CapstanResources(createKubeConfig(platform.kubeconfigPath));

    // A viewer who may read the audit log of one namespace only.
    await applyYaml(
      platform.api,
      `apiVersion: v1
kind: Namespace
metadata: {name: ${teamNs}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: viewer, namespace: ${teamNs}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: audit-reader, namespace: ${teamNs}}
rules: [{apiGroups: [audit.capstan.dev], resources: [decisions], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: viewer-reads-audit, namespace: ${teamNs}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: audit-reader}
subjects: [{kind: ServiceAccount, name: viewer, namespace: ${teamNs}}]
---
apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: team-config, namespace: ${teamNs}}
spec: {url: "file:///nonexistent/${id}", ref: {branch: main}, interval: 1h}
`,
    );
    const { status } = await createKubeConfig(platform.kubeconfigPath)
      .makeApiClient(CoreV1Api)
      .createNamespacedServiceAccountToken({
        name: 'viewer',
        namespace: teamNs,
        body: { spec: { audiences: [], expirationSeconds: 3600 } },
      });
    viewerToken = status?.token ?? '';
    assert.ok(viewerToken);

    // A real deploy, so the overview, the history and a deploy's timeline have something true to show.
    repo = await GitRepo.create(join(tmpdir(), `capstan-e2e-console-${id}`));
    await repo.write({
      'deploy/app.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${appNs}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: greeting, namespace: ${appNs}}\ndata: {greeting: hello}\n`,
    });
    firstSha = repo.commit('Deploy the greeting', ada);
    await applyYaml(platform.api, repositoryAndSync(name, repo.url, './deploy'));
    await waitFor('Sync applied', async () => {
      const s = await resources.get('Sync', 'default', name);
      return s.status?.lastAppliedRevision === `main@sha1:${firstSha}` ? s : undefined;
    });

    // 10,000 more decisions, published as the reconciler would, for the virtual list.
    bus = await connectBus({
      url: platform.env['NATS_URL'] ?? 'nats://127.0.0.1:4222',
      topology: topology(platform.env['EVENT_PREFIX']),
      name: 'e2e-console',
    });
    for (let start = 0; start < BULK; start += 500)
      await Promise.all(
        Array.from({ length: Math.min(500, BULK - start) }, (_, i) =>
          bus.publish(
            decisionEvent({
              id: `bulk-${id}-${start + i}`,
              commit: 1000 + start + i,
              decidedAt: new Date(Date.UTC(2026, 10, 1) + (start + i) * 1000).toISOString(),
              sync: { namespace: bulkNs, name: 'bulk' },
              targets: [deployment(`web-${(start + i) % 7}`, bulkNs)],
              changeSet: [{ ...deployment(`web-${(start + i) % 7}`, bulkNs), action: 'configured' }],
            }),
          ),
        ),
      );
    await waitFor(
      'the 10,000 decisions recorded',
      async () => {
        const res = await fetch(`${platform.auditUrl}/api/v1/decisions?sync=${bulkNs}/bulk&format=ndjson`, {
          headers: { authorization: `Bearer ${platform.auditToken}` },
        });
        const lines = (await res.text()).split('\n').filter(Boolean).length;
        return lines === BULK ? true : undefined;
      },
      180_000,
    );
    browser = await launch('admin');
  });

  after(async () => {
    // Whatever `before` got to start, even if it failed half way.
    await (browser as BrowserContext | undefined)?.close();
    await (bus as Bus | undefined)?.close();
    await platform.stop();
    await (repo as GitRepo | undefined)?.remove();
    for (const kind of ['Sync', 'GitRepository'])
      await platform.api
        .delete({ apiVersion: 'capstan.dev/v1alpha1', kind, metadata: { name, namespace: 'default' } })
        .catch(() => undefined);
    for (const ns of [appNs, teamNs])
      await platform.api
        .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })
        .catch(() => undefined);
    await rm(profiles, { recursive: true, force: true });
  });

  it('logs in once with a Kubernetes token kept only in an HttpOnly, SameSite=Strict cookie', async () => {
    const page = await open(browser, '/console/');
    await page.getByLabel('Kubernetes bearer token').waitFor();
    await shot(page, 'login.png');
    await page.getByLabel('Kubernetes bearer token').fill('not-a-token');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('That token was not accepted.').waitFor();
    await login(page, platform.auditToken);
    // The name TokenReview gave the kubeconfig's user.
    assert.match((await page.locator('.username').textContent()) ?? '', /admin/);
    const cookies = await browser.cookies();
    const session = cookies.find((c) => c.name === 'capstan_session');
    assert.ok(session, 'a session cookie');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(session.secure, false, 'Secure only over TLS; this test serves plain HTTP on loopback');
    assert.ok(
      !session.value.includes(platform.auditToken),
      'the cookie holds the token sealed, not in clear',
    );
    const exposed = await page.evaluate(() => ({
      cookie: document.cookie,
      local: JSON.stringify(localStorage),
      session: JSON.stringify(sessionStorage),
      url: location.href,
    }));
    assert.deepEqual(exposed, {
      cookie: '',
      local: '{}',
      session: '{}',
      url: `${platform.auditUrl}/console/`,
    });
  });

  it('Overview: every Capstan object with Ready, revision, last decision and actor; filters; live updates', async () => {
    const page = await open(browser, '/console/');
    const syncRow = page.locator('tr[data-kind="Sync"]', { hasText: `default/${name}` });
    await syncRow.waitFor();
    assert.match(
      (await syncRow.textContent()) ?? '',
      new RegExp(`Ready.*main@sha1:${firstSha.slice(0, 12)}.*applied.*Ada Lovelace`),
    );
    await page.locator('tr[data-kind="GitRepository"]', { hasText: `default/${name}` }).waitFor();
    await shot(page, 'overview.png');

    await page.getByLabel('Namespace').selectOption(teamNs);
    await waitFor('the namespace filter applied', async () =>
      (await page.locator('tbody tr').count()) === 1 &&
      (await page.locator('tbody tr').textContent())?.includes('team-config')
        ? true
        : undefined,
    );
    assert.match(page.url(), new RegExp(`namespace=${teamNs}`));
    await page.getByLabel('Namespace').selectOption('');

    // A new commit reaches the open page through the SSE stream, without a reload.
    await repo.write({
      'deploy/app.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${appNs}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: greeting, namespace: ${appNs}}\ndata: {greeting: hi}\n`,
    });
    const second = repo.commit('Say hi', grace);
    await waitFor(
      'the overview showing the new revision',
      async () =>
        (await syncRow.textContent())?.includes(second.slice(0, 12)) &&
        (await syncRow.textContent())?.includes('Grace Hopper')
          ? true
          : undefined,
      90_000,
    );

    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'overview-phone.png');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `nothing wider than a phone screen (overflow ${overflow}px)`);
    await page.setViewportSize({ width: 1360, height: 860 });
  });

  it('Who deployed what: search by object, its timeline, a decision with its change set and evidence', async () => {
    const page = await open(browser, '/console/who');
    await page.getByLabel('Namespace').fill(appNs);
    await page.getByLabel('Kind').fill('ConfigMap');
    await page.getByLabel('Name', { exact: true }).fill('greeting');
    await page.getByRole('button', { name: 'Search' }).click();
    const timeline = page.getByRole('list', { name: 'Object history' });
    await timeline.getByText('Say hi').waitFor();
    assert.match((await timeline.textContent()) ?? '', /Deploy the greeting/);
    const rows = page.getByRole('list', { name: 'Decisions, newest first' }).getByRole('listitem');
    await rows.first().click();
    const detail = page.locator('article.decision');
    await detail.waitFor();
    assert.match((await detail.textContent()) ?? '', /Grace Hopper/);
    assert.match(
      (await page.locator('pre.diff').first().textContent()) ?? '',
      /~ ConfigMap .*greeting \(configured\)/,
    );
    await shot(page, 'who.png');

    await page.getByLabel('Person').fill('nobody-at-all');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('0 decisions').waitFor();

    // By image: the decisions about one image, whoever made them, tag or no tag.
    await bus.publish(
      decisionEvent({
        id: `image-${id}`,
        action: 'image.updated',
        commit: 77,
        message: 'Auto-release 127.0.0.1:5000/team/web:2.0.0',
        sync: { namespace: appNs, name: 'fleet' },
        image: { repository: '127.0.0.1:5000/team/web', tag: '2.0.0' },
      }),
    );
    for (const label of ['Namespace', 'Kind', 'Person']) await page.getByLabel(label).fill('');
    await page.getByLabel('Name', { exact: true }).fill('');
    await page.getByLabel('Image').fill('127.0.0.1:5000/team/web:2.0.0');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('1 decision', { exact: true }).waitFor();
    await page.getByRole('list', { name: 'Decisions, newest first' }).getByText('image.updated').waitFor();
  });

  it('scrolls 10,000 decisions with a handful of rows in the page, paging with the cursor', async () => {
    const page = await open(browser, `/console/who?namespace=${bulkNs}`);
    const list = page.getByRole('list', { name: 'Decisions, newest first' });
    await list.getByRole('listitem').first().waitFor();
    for (let i = 0; i < 200; i++) {
      const status = (await page.locator('.vlist-status').textContent()) ?? '';
      if (status === `${BULK} decisions`) break;
      await list.evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await page.waitForTimeout(50);
    }
    assert.equal(await page.locator('.vlist-status').textContent(), `${BULK} decisions`);
    const rendered = await list.getByRole('listitem').count();
    assert.ok(rendered < 100, `only the rows in view are in the document (${rendered})`);
    const lastRow = list.locator(`[aria-posinset="${BULK}"]`);
    assert.equal(await lastRow.getAttribute('aria-setsize'), String(BULK));
    await lastRow.click();
    await page
      .locator('article.decision')
      .getByText(/change 1[0-4]\d\d\b/)
      .waitFor();
    // The keyboard moves through the rows too.
    await lastRow.focus();
    await page.keyboard.press('Home');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-posinset')), '1');
    await shot(page, 'who-10000.png');
  });

  it('A deploy: one correlation id step by step', async () => {
    const decisions = await platform.auditGet<{ items: { correlationId: string | null }[] }>(
      `/api/v1/decisions?sync=default/${name}&limit=1`,
    );
    const correlationId = decisions.items[0]?.correlationId;
    assert.ok(correlationId);
    const page = await open(browser, `/console/deploys/${encodeURIComponent(correlationId)}`);
    const steps = page.getByRole('list', { name: 'Steps of the deploy' });
    await steps.getByText('Step 1').waitFor();
    assert.match((await steps.textContent()) ?? '', /applied .*Grace Hopper/);
    await page.locator('article.decision').waitFor();
    await shot(page, 'deploy.png');
  });

  it('Rollouts: canaries with their commands, each step with its weight and metrics against thresholds', async () => {
    await applyYaml(
      platform.api,
      `apiVersion: capstan.dev/v1alpha1
kind: Canary
metadata: {name: web, namespace: ${appNs}}
spec: {targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, service: {port: 80}, analysis: {interval: 1m, threshold: 5, maxWeight: 50, stepWeight: 10}}
`,
    );
    // A step as the canary-analyzer records it (libs/canary-core rollout decisions).
    await bus.publish(
      decisionEvent({
        id: `canary-${id}`,
        action: 'canary.advanced',
        commit: 9,
        canary: { namespace: appNs, name: 'web' },
        evidence: {
          weight: { before: 20, after: 30 },
          check: {
            stage: 'analysis',
            verdict: 'Pass',
            metrics: [
              {
                metric: 'request-success-rate',
                query: 'sum(rate(...))',
                verdict: 'Pass',
                reason: 'within threshold',
                canary: 99.7,
                primary: 99.9,
                threshold: { min: 99 },
              },
            ],
          },
        },
      }),
    );
    const rollouts = await open(browser, '/console/rollouts');
    await rollouts.getByText(`${appNs}/web canary.advanced`).waitFor();
    // Look at this Canary's step only: the page also lists whatever else the log holds.
    const step = rollouts.locator('li', { hasText: `${appNs}/web canary.advanced` });
    assert.equal(await step.getByRole('progressbar', { name: 'weight 30%' }).count(), 1);
    assert.match(
      (await step.getByRole('table', { name: 'Metric checks' }).textContent()) ?? '',
      /request-success-rate99\.799\.9≥ 99pass/,
    );
    // The Canary's own status is followed live, between decisions too: a weight written to
    // status (as the canary-analyzer does mid-step) shows without a reload and without a decision.
    const card = rollouts.locator(`[data-canary="${appNs}/web"]`);
    await createKubeConfig(platform.kubeconfigPath)
      .makeApiClient(CustomObjectsApi)
      .patchNamespacedCustomObjectStatus(
        {
          group: 'capstan.dev',
          version: 'v1alpha1',
          namespace: appNs,
          plural: 'canaries',
          name: 'web',
          body: { status: { phase: 'Progressing', canaryWeight: 40 } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    await card.getByRole('progressbar', { name: 'canary weight 40%' }).waitFor({ timeout: 30_000 });
    // The buttons call the canary command API with the session and its CSRF token: it
    // authenticates the person and checks RBAC, then finds no canary-analyzer running here.
    await card.getByRole('button', { name: `pause ${appNs}/web` }).click();
    await card.getByText(/^pause refused: 503 no canary-analyzer answered/).waitFor();
    await shot(rollouts, 'rollouts.png');
  });

  it('Integrity: the last verification, and a verification on demand', async () => {
    const page = await open(browser, '/console/integrity');
    await page.getByRole('button', { name: 'Verify the chain now' }).click();
    await page.getByText(/All \d+ decisions chain correctly/).waitFor();
    await shot(page, 'integrity.png');
  });

  it('refuses state changes without the CSRF token or from another origin', async () => {
    const page = await open(browser, '/console/');
    await page.getByRole('navigation', { name: 'Console' }).waitFor();
    const answers = await page.evaluate(async () => {
      const post = (headers: Record<string, string>) =>
        fetch('/api/v1/subscriptions/default/none/redrive', { method: 'POST', headers }).then(
          (r) => r.status,
        );
      return { without: await post({}), wrong: await post({ 'x-csrf-token': 'forged' }) };
    });
    assert.deepEqual(answers, { without: 403, wrong: 403 });
    const cookie = (await browser.cookies()).find((c) => c.name === 'capstan_session');
    const csrf = await page.evaluate(
      async () => ((await (await fetch('/console/api/session')).json()) as { csrfToken: string }).csrfToken,
    );
    const crossSite = await fetch(`${platform.auditUrl}/api/v1/audit/verify`, {
      method: 'POST',
      headers: {
        cookie: `capstan_session=${cookie?.value ?? ''}`,
        'x-csrf-token': csrf,
        origin: 'https://evil.example',
      },
    });
    assert.equal(crossSite.status, 403, 'a foreign Origin is refused even with the token');
    const sameSite = await fetch(`${platform.auditUrl}/api/v1/audit/verify`, {
      headers: { cookie: `capstan_session=${cookie?.value ?? ''}` },
    });
    assert.equal(sameSite.status, 200, 'reads need no CSRF token');
    // Behind a TLS-terminating proxy (X-Forwarded-Proto: https) the cookie is Secure too.
    const tls = await fetch(`${platform.auditUrl}/console/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
      body: JSON.stringify({ token: platform.auditToken }),
    });
    assert.equal(tls.status, 200);
    assert.match(
      tls.headers.get('set-cookie') ?? '',
      /^capstan_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/,
    );
  });

  it('a namespace-scoped viewer sees only their namespace, as the API trims it', async () => {
    const viewer = await launch('viewer');
    try {
      const page = await open(viewer, '/console/');
      await login(page, viewerToken);
      await page.locator('tr[data-kind="GitRepository"]', { hasText: 'team-config' }).waitFor();
      assert.equal(await page.locator('tbody tr').count(), 1, 'nothing outside their namespace');
      const integrity = await open(viewer, '/console/integrity');
      await integrity
        .getByText('Verifying the chain needs cluster-wide read access to the audit log.')
        .waitFor();
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByLabel('Kubernetes bearer token').waitFor();
      assert.equal(
        (await viewer.cookies()).find((c) => c.name === 'capstan_session'),
        undefined,
      );
    } finally {
      await viewer.close();
    }
  });

  it('is accessible: a language, every control labelled, landmarks', async () => {
    const page = await open(browser, '/console/who');
    await page.getByRole('search').waitFor();
    const problems = await page.evaluate(() => {
      const out: string[] = [];
      if (!document.documentElement.lang) out.push('no lang');
      for (const el of document.querySelectorAll('input, select, textarea')) {
        const id = el.getAttribute('id');
        if (!el.getAttribute('aria-label') && !(id && document.querySelector(`label[for="${id}"]`)))
          out.push(`unlabelled ${el.outerHTML}`);
      }
      for (const b of document.querySelectorAll('button'))
        if (!b.textContent.trim() && !b.getAttribute('aria-label')) out.push('button without a name');
      if (!document.querySelector('main')) out.push('no main landmark');
      if (!document.querySelector('nav[aria-label]')) out.push('no labelled navigation');
      return out;
    });
    assert.deepEqual(problems, []);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
  });

  it('has WCAG AA contrast on every page, in the light and the dark scheme', async () => {
    const pages = ['/console/', `/console/who?namespace=${appNs}`, '/console/rollouts', '/console/integrity'];
    const failures: string[] = [];
    const backgrounds = new Set<string>();
    try {
      for (const colorScheme of ['light', 'dark'] as const) {
        const page = await open(browser, '/console/');
        await page.emulateMedia({ colorScheme });
        for (const path of pages) {
          await page.goto(`${platform.auditUrl}${path}`);
          await page.locator('main *').first().waitFor();
          await page.waitForLoadState('networkidle').catch(() => undefined);
          const { checked, problems, background } = await page.evaluate(contrastProblems);
          assert.ok(checked > 10, `${colorScheme} ${path}: ${checked} pieces of text checked`);
          backgrounds.add(background);
          failures.push(...problems.map((f) => `${colorScheme} ${path}: ${f}`));
        }
      }
    } finally {
      await (browser.pages()[0] ?? (await browser.newPage())).emulateMedia({ colorScheme: null });
    }
    assert.deepEqual(failures, []);
    assert.equal(backgrounds.size, 2, `one page background per scheme: ${[...backgrounds].join(', ')}`);
  });
});

/**
 * Text whose contrast with what is behind it is below WCAG 2 AA (4.5:1, 3:1 for large text), as
 * the browser computed the styles. Runs in the page; disabled controls are exempt, as WCAG says.
 */
function contrastProblems(): { checked: number; problems: string[]; background: string } {
  type Rgba = { r: number; g: number; b: number; a: number };
  const parse = (c: string): Rgba | undefined => {
    const m = /rgba?\(([^)]+)\)/.exec(c);
    if (!m) return undefined;
    const [r = 0, g = 0, b = 0, a = 1] = (m[1] ?? '')
      .split(/[\s,/]+/)
      .filter(Boolean)
      .map(Number);
    return { r, g, b, a };
  };
  const channel = (v: number) => {
    const x = v / 255;
    return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  };
  const luminance = (c: Rgba) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const behind = (el: Element | null): Rgba => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) return c;
    }
    return (
      parse(getComputedStyle(document.documentElement).backgroundColor) ?? { r: 255, g: 255, b: 255, a: 1 }
    );
  };
  const out: string[] = [];
  let checked = 0;
  for (const el of document.querySelectorAll('body *')) {
    const text = [...el.childNodes]
      .filter((n) => n.nodeType === Node.TEXT_NODE)
      .map((n) => (n.textContent ?? '').trim())
      .join(' ')
      .trim();
    if (!text || el.getClientRects().length === 0 || (el as HTMLButtonElement).disabled) continue;
    const style = getComputedStyle(el);
    if (style.visibility !== 'visible') continue;
    const fg = parse(style.color);
    if (!fg) continue;
    checked++;
    const [hi, lo] = [luminance(fg), luminance(behind(el))].sort((a, b) => b - a) as [number, number];
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5))
      out.push(`${el.tagName.toLowerCase()}.${el.className} "${text.slice(0, 40)}" ${ratio.toFixed(2)}:1`);
  }
  return { checked, problems: out, background: getComputedStyle(document.documentElement).backgroundColor };
}
