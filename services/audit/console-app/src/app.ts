import { api, ApiError, setSession, whenUnauthenticated, type Session } from './api.js';
import { h, link, replace } from './dom.js';
import { deployPage } from './page-deploy.js';
import { integrityPage } from './page-integrity.js';
import { overviewPage } from './page-overview.js';
import type { Cleanup, Page } from './page.js';
import { rolloutsPage } from './page-rollouts.js';
import { whoPage } from './page-who.js';

/** /console/<first segment> -> page. */
const ROUTES: Record<string, Page> = {
  '': overviewPage,
  who: whoPage,
  deploys: deployPage,
  rollouts: rolloutsPage,
  integrity: integrityPage,
};

const NAV: [string, string][] = [
  ['/console/', 'Overview'],
  ['/console/who', 'Who deployed what'],
  ['/console/rollouts', 'Rollouts'],
  ['/console/integrity', 'Integrity'],
];

const root = document.getElementById('app') as HTMLElement;
let cleanup: Cleanup | undefined;

function route(focus = true): void {
  cleanup?.();
  cleanup = undefined;
  const path = location.pathname
    .replace(/^\/console\/?/, '')
    .split('/')
    .filter(Boolean);
  const page = ROUTES[path[0] ?? ''] ?? overviewPage;
  const main = document.getElementById('main');
  if (!main) return;
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    const here = a.pathname === '/console/' ? path.length === 0 : location.pathname.startsWith(a.pathname);
    if (here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  cleanup = page(main, { path, params: new URLSearchParams(location.search) });
  // After a navigation, screen readers start at the new content; on first load, at the top.
  if (focus) main.focus();
}

function shell(session: Session): void {
  const logout = h('button', { type: 'button', class: 'logout' }, 'Log out');
  logout.addEventListener('click', () => {
    void api.delete('/console/api/session').finally(() => {
      setSession(null);
      login();
    });
  });
  replace(
    root,
    h('a', { class: 'skip', href: '#main' }, 'Skip to content'),
    h(
      'header',
      {},
      h('span', { class: 'brand' }, 'Capstan'),
      h('nav', { 'aria-label': 'Console' }, ...NAV.map(([href, label]) => link(href, label))),
      h('span', { class: 'user' }, h('span', { class: 'username' }, session.username), logout),
    ),
    h('main', { id: 'main', tabindex: -1 }),
  );
  route(false);
}

function login(message?: string): void {
  cleanup?.();
  cleanup = undefined;
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    required: true,
    'aria-describedby': 'token-help',
  });
  const error = h('p', { class: 'error', role: 'alert' }, message ?? '');
  const form = h(
    'form',
    { class: 'login', 'aria-label': 'Log in' },
    h('h1', {}, 'Capstan'),
    h('label', { for: 'token' }, 'Kubernetes bearer token'),
    input,
    h(
      'p',
      { id: 'token-help', class: 'help' },
      'For example the output of ',
      h('code', {}, 'kubectl create token <service-account>'),
      '. It is checked by the Kubernetes API server and kept only in an HttpOnly session cookie.',
    ),
    h('button', { type: 'submit' }, 'Log in'),
    error,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    api
      .post<Session>('/console/api/session', { token: input.value })
      .then((session) => {
        input.value = '';
        setSession(session);
        shell(session);
      })
      .catch((err: unknown) => {
        error.textContent =
          err instanceof ApiError && err.status === 401 ? 'That token was not accepted.' : String(err);
      });
  });
  replace(root, h('main', { id: 'main' }, form));
  input.focus();
}

document.addEventListener('click', (e) => {
  const a = (e.target as Element | null)?.closest('a[data-route]');
  if (!(a instanceof HTMLAnchorElement) || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  history.pushState(null, '', a.href);
  route();
});
window.addEventListener('popstate', () => route());
whenUnauthenticated(() => login('Your session has ended; log in again.'));

api
  .get<Session>('/console/api/session')
  .then((session) => {
    setSession(session);
    shell(session);
  })
  .catch(() => login());
