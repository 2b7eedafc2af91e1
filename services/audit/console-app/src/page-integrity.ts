import { api, ApiError, type VerifyCheck } from './api.js';
import { badge, h, replace, time } from './dom.js';
import type { Page } from './page.js';

function report(check: VerifyCheck | null, at?: string): HTMLElement {
  if (!check) return h('p', {}, 'The chain has not been verified since the audit service started.');
  return h(
    'div',
    { class: check.ok ? 'verdict ok' : 'verdict bad', role: 'status' },
    check.ok ? badge('Intact', 'ok') : badge('Broken', 'bad'),
    h(
      'p',
      {},
      check.ok
        ? `All ${check.checked} decisions chain correctly.`
        : `Broken at decision #${check.firstBrokenSeq ?? '?'} (${check.reason ?? ''}) after ${check.checked} good ones.`,
    ),
    h('p', {}, 'Checked ', time(check.at ?? at)),
  );
}

/** The hash chain: the last verification, and a button that walks it again now. */
export const integrityPage: Page = (main) => {
  const result = h('section', { 'aria-label': 'Verification result' });
  const button = h('button', { type: 'button' }, 'Verify the chain now');
  button.addEventListener('click', () => {
    button.disabled = true;
    replace(result, h('p', { role: 'status' }, 'Verifying every decision…'));
    api
      .get<VerifyCheck>('/api/v1/audit/verify')
      .then((check) => replace(result, report(check, new Date().toISOString())))
      .catch((e: unknown) =>
        replace(result, h('p', { role: 'alert' }, String(e instanceof Error ? e.message : e))),
      )
      .finally(() => (button.disabled = false));
  });
  replace(
    main,
    h('h1', {}, 'Integrity'),
    h(
      'p',
      {},
      'Every decision carries the hash of the one before it: changing or removing one breaks the chain from there on.',
    ),
    result,
    button,
  );
  api
    .get<{ check: VerifyCheck | null }>('/api/v1/audit/verify/last')
    .then(({ check }) => replace(result, report(check)))
    .catch((e: unknown) =>
      replace(
        result,
        h(
          'p',
          { role: 'alert' },
          e instanceof ApiError && e.status === 403
            ? 'Verifying the chain needs cluster-wide read access to the audit log.'
            : String(e),
        ),
      ),
    );
  return undefined;
};
