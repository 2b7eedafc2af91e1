import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startAudit } from '@capstan/audit';
import { decisionEvent, deployment } from '@capstan/audit/testing';
import { topology } from '@capstan/events';
import { launchConsoleBrowser, waitFor } from '@capstan/e2e';
import { connectBus } from '@capstan/messaging';
import { createTestDatabase, sharedCluster, testNatsUrl } from '@capstan/testing';
import { percentile, type BenchResult } from './harness.js';

const DECISIONS = 10_000;
const LOADS = 7;

/**
 * The web console with 10,000 decisions: one audit service (production settings, real
 * Postgres, NATS and API server) holding 10,000 decisions, Debian's chromium headless. Value:
 * median time from navigating to "Who deployed what" until the newest decisions are on screen
 * (the page, its modules, the session check and the first cursor page of 100), over 7 loads.
 * Also reported: scrolling through all 10,000 (20 pages) with only the rows in view in the page.
 */
export async function consoleLoad(): Promise<BenchResult> {
  const { kubeconfigPath } = await sharedCluster();
  const db = await createTestDatabase();
  const prefix = `bench-console-${randomBytes(3).toString('hex')}`;
  const audit = await startAudit({
    KUBECONFIG: kubeconfigPath,
    NATS_URL: testNatsUrl(),
    EVENT_PREFIX: prefix,
    DATABASE_URL: db.url,
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    // The console's own work is measured, not TokenReview's round trips.
    AUDIT_AUTH: 'disabled',
  });
  const url = `http://127.0.0.1:${audit.port}`;
  const bus = await connectBus({ url: testNatsUrl(), topology: topology(prefix), name: 'bench-console' });
  const profile = await mkdtemp(join(tmpdir(), 'capstan-bench-chromium-'));
  try {
    for (let start = 0; start < DECISIONS; start += 500)
      await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          bus.publish(
            decisionEvent({
              id: `${prefix}-${start + i}`,
              commit: start + i + 1,
              sync: { namespace: 'bench', name: `app-${(start + i) % 20}` },
              targets: [deployment(`web-${(start + i) % 50}`, 'bench')],
              changeSet: [{ ...deployment(`web-${(start + i) % 50}`, 'bench'), action: 'configured' }],
            }),
          ),
        ),
      );
    await waitFor(
      'the decisions recorded',
      async () => {
        const res = await fetch(`${url}/api/v1/decisions?format=ndjson`);
        return (await res.text()).split('\n').filter(Boolean).length === DECISIONS ? true : undefined;
      },
      300_000,
    );
    const browser = await launchConsoleBrowser(profile);
    try {
      const page = browser.pages()[0] ?? (await browser.newPage());
      await page.goto(`${url}/console/`);
      await page.getByLabel('Kubernetes bearer token').fill('any');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('navigation', { name: 'Console' }).waitFor();
      const loads: number[] = [];
      for (let i = 0; i < LOADS; i++) {
        const t0 = performance.now();
        await page.goto(`${url}/console/who`);
        await page
          .getByRole('list', { name: 'Decisions, newest first' })
          .getByRole('listitem')
          .first()
          .waitFor();
        await page.getByText('100 decisions loaded, scroll for more').waitFor();
        loads.push(performance.now() - t0);
      }
      const list = page.getByRole('list', { name: 'Decisions, newest first' });
      const t0 = performance.now();
      for (;;) {
        const status = (await page.locator('.vlist-status').textContent()) ?? '';
        if (status === `${DECISIONS} decisions`) break;
        await page.evaluate("document.querySelector('.vlist')?.scrollTo(0, 1e9)");
        // The next page arrives when the status line changes.
        await page
          .waitForFunction(
            `document.querySelector('.vlist-status')?.textContent !== ${JSON.stringify(status)}`,
            undefined,
            {
              timeout: 10_000,
            },
          )
          .catch(() => undefined);
      }
      const scrollAll = performance.now() - t0;
      const rows = await list.getByRole('listitem').count();
      loads.sort((a, b) => a - b);
      const median = Math.round(percentile(loads, 50));
      return {
        name: 'console-load',
        value: median,
        unit: 'ms to the newest decisions on screen, 10,000 in the log (median of 7 loads)',
        target: '< 1000 ms (issue 13)',
        details: [
          `- loads (ms): ${loads.map((l) => Math.round(l)).join(', ')}; p50 ${median}, max ${Math.round(loads.at(-1) ?? 0)}`,
          `- scrolling through all ${DECISIONS} decisions (a page of 100, then pages of 500): ${Math.round(scrollAll)} ms, ${rows} rows in the page at the end`,
          '- one audit service (AUDIT_AUTH=disabled, so TokenReview round trips are not counted), real Postgres and NATS; Debian chromium headless on the same machine',
        ].join('\n'),
      };
    } finally {
      await browser.close();
    }
  } finally {
    await bus.close();
    await audit.close();
    await db.drop();
    await rm(profile, { recursive: true, force: true });
  }
}
