// The dashboard's entry: login, the header, the error banner and a hash
// router over the views (#/network, #/jobs, #/jobs/ID, #/services, #/datasets,
// #/usage).

import './style.css';
import { api, ApiError, describeError, onUnauthenticated, storedToken, storeToken } from './api';
import type { WhoAmI } from './api';
import { h, fill } from './dom';
import { ErrorBanner } from './shell';
import type { Ctx, View } from './shell';
import { networkView } from './views/network';
import { jobsView } from './views/jobs';
import { jobView } from './views/job';
import { usageView } from './views/usage';
import { datasetsView } from './views/datasets';
import { servicesView } from './views/services';

const root = document.getElementById('app')!;
const banner = new ErrorBanner();
let current: View | null = null;
let who: WhoAmI | null = null;
let version = '';

const NAV: [string, string][] = [
  ['network', 'Network'],
  ['jobs', 'Jobs'],
  ['services', 'Services'],
  ['datasets', 'Datasets'],
  ['usage', 'Usage'],
];

function disposeView(): void {
  current?.dispose();
  current = null;
}

function footer(): HTMLElement {
  return h('footer', { class: 'app-foot' }, h('span', { testid: 'version' }, version ? `suanli ${version}` : 'suanli'), h('a', { href: '/metrics', target: '_blank', rel: 'noopener' }, 'metrics'));
}

// --- login -----------------------------------------------------------------

function showLogin(message = ''): void {
  disposeView();
  who = null;
  banner.clear();
  const input = h('input', {
    id: 'login-token',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    placeholder: 'API token',
    testid: 'login-token',
  });
  const button = h('button', { class: 'btn btn-primary', type: 'submit', testid: 'login-submit' }, 'Sign in');
  const msg = h('div', { class: 'form-msg', 'aria-live': 'polite' });
  if (message) fill(msg, h('span', { class: 'msg-error', role: 'alert', testid: 'login-error' }, message));
  const form = h(
    'form',
    {
      class: 'card login',
      testid: 'login-form',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const token = input.value.trim();
        if (!token) {
          fill(msg, h('span', { class: 'msg-error', role: 'alert', testid: 'login-error' }, 'Enter a token.'));
          return;
        }
        button.disabled = true;
        fill(msg, h('span', { class: 'muted' }, 'Checking…'));
        try {
          const w = await api.whoami(token);
          storeToken(token);
          startApp(w);
        } catch (e) {
          const text = e instanceof ApiError && e.status === 401 ? `The server does not know this token. ${describeError(e)}` : describeError(e);
          fill(msg, h('span', { class: 'msg-error', role: 'alert', testid: 'login-error' }, text));
          button.disabled = false;
        }
      },
    },
    h('div', { class: 'login-brand' }, logo(), h('span', null, 'Suanli')),
    h('h1', null, 'Sign in'),
    h('p', { class: 'muted' }, 'Enter your API token. The admin\'s token is the one the server was first started with (SUANLI_ADMIN_TOKEN); tenants receive theirs when the admin creates them. The token is kept in this browser until you sign out.'),
    h('label', { class: 'field', for: 'login-token' }, h('span', { class: 'field-label' }, 'Token'), input),
    h('div', { class: 'form-actions' }, button, msg),
  );
  fill(root, h('main', { class: 'login-page', testid: 'view-login' }, form), footer());
  input.focus();
}

function logo(): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 32 32');
  svg.setAttribute('class', 'logo');
  svg.setAttribute('aria-hidden', 'true');
  const rects: [number, number, string][] = [[7, 7, '1'], [18, 7, '1'], [7, 18, '1'], [18, 18, '.55']];
  const bg = document.createElementNS(ns, 'rect');
  for (const [k, v] of Object.entries({ width: '32', height: '32', rx: '7', fill: 'currentColor' })) bg.setAttribute(k, v);
  svg.appendChild(bg);
  for (const [x, y, o] of rects) {
    const r = document.createElementNS(ns, 'rect');
    for (const [k, v] of Object.entries({ x: String(x), y: String(y), width: '7', height: '7', rx: '1.5', fill: '#fff', opacity: o })) r.setAttribute(k, v);
    svg.appendChild(r);
  }
  return svg;
}

function logout(): void {
  storeToken('');
  location.hash = '#/network';
  showLogin();
}

// --- the app ---------------------------------------------------------------

let main: HTMLElement;
let navLinks: Record<string, HTMLAnchorElement> = {};

function startApp(w: WhoAmI): void {
  who = w;
  navLinks = {};
  const nav = h(
    'nav',
    { class: 'nav', testid: 'nav' },
    NAV.map(([key, label]) => (navLinks[key] = h('a', { href: `#/${key}`, testid: `nav-${key}` }, label))),
  );
  const header = h(
    'header',
    { class: 'app-head' },
    h('a', { class: 'brand', href: '#/network' }, logo(), h('span', null, 'Suanli')),
    nav,
    h(
      'div',
      { class: 'user' },
      h('span', { class: 'whoami', testid: 'whoami', title: 'signed in as' }, w.tenant, w.admin ? h('span', { class: 'badge badge-info' }, 'admin') : null),
      h('button', { class: 'btn btn-small', testid: 'logout', onclick: logout }, 'Sign out'),
    ),
  );
  main = h('main', { class: 'app-main', testid: 'main' });
  fill(root, header, banner.el, main, footer());
  route();
}

const ctx = (): Ctx => ({ who: who!, report: (source, error) => banner.report(source, error) });

function route(): void {
  if (!who) return;
  disposeView();
  banner.clear();
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean);
  const query = new URLSearchParams(qs);
  let active = parts[0] ?? 'network';
  try {
    if (parts.length === 0 || (parts[0] === 'network' && parts.length === 1)) {
      active = 'network';
      current = networkView(ctx());
    } else if (parts[0] === 'jobs' && parts.length === 1) {
      current = jobsView(ctx(), query);
    } else if (parts[0] === 'jobs' && parts.length === 2 && /^\d+$/.test(parts[1])) {
      current = jobView(ctx(), Number(parts[1]));
    } else if (parts[0] === 'services' && parts.length === 1) {
      current = servicesView(ctx());
    } else if (parts[0] === 'datasets' && parts.length === 1) {
      current = datasetsView(ctx());
    } else if (parts[0] === 'usage' && parts.length === 1) {
      current = usageView(ctx());
    } else {
      current = {
        el: h('div', { class: 'view', testid: 'view-not-found' }, h('h1', null, 'Not found'), h('p', null, `There is no page “${raw}”. `, h('a', { href: '#/network' }, 'Go to the network.'))),
        dispose: () => {},
      };
    }
  } catch (e) {
    current = { el: h('div', { class: 'view' }, h('h1', null, 'Something went wrong'), h('p', { class: 'msg-error' }, describeError(e))), dispose: () => {} };
  }
  for (const [key, a] of Object.entries(navLinks)) a.classList.toggle('active', key === active);
  fill(main, current.el);
  document.title = `Suanli · ${active.charAt(0).toUpperCase()}${active.slice(1)}`;
}

// --- start -----------------------------------------------------------------

function showUnreachable(e: unknown): void {
  disposeView();
  fill(
    root,
    h(
      'main',
      { class: 'login-page', testid: 'view-unreachable' },
      h(
        'div',
        { class: 'card login' },
        h('h1', null, 'The server does not answer'),
        h('p', { class: 'msg-error', role: 'alert' }, describeError(e)),
        h('button', { class: 'btn btn-primary', onclick: () => void boot() }, 'Try again'),
      ),
    ),
  );
}

async function boot(): Promise<void> {
  api.health().then(
    (hl) => {
      version = hl.version ?? '';
      const v = document.querySelector('[data-testid="version"]');
      if (v && version) v.textContent = `suanli ${version}`;
    },
    () => {},
  );
  const token = storedToken();
  if (!token) {
    showLogin();
    return;
  }
  try {
    startApp(await api.whoami(token));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      storeToken('');
      showLogin('The saved token is no longer valid; sign in again.');
    } else {
      showUnreachable(e);
    }
  }
}

onUnauthenticated((e) => {
  storeToken('');
  showLogin(`Signed out: ${describeError(e)}`);
});
window.addEventListener('hashchange', route);
window.addEventListener('error', (ev) => banner.report('Dashboard', ev.message || 'unexpected error'));
window.addEventListener('unhandledrejection', (ev) => banner.report('Dashboard', describeError(ev.reason)));
void boot();
