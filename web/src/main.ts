import './styles.css';
import { h, clear, field } from './dom';
import { api, ApiError, setUnauthorizedHandler } from './api';
import { t, getLang, setLang, onLangChange, Lang } from './i18n';
import { route, match, navigate, setNavigateHandler, Cleanup } from './router';
import { state, loadOrgs, setOrg, isAdmin, restricted, startLive, stopLive } from './state';
import { alarmCountBadge, refreshAlarmCount, setScreenTitle } from './alarmCount';
import './alarmAlert';  // sound and notification for new critical alarms, on every screen
import { loginScreen, setLoginMessage } from './screens/login';
import { overviewScreen } from './screens/overview';
import { devicesScreen } from './screens/devices';
import { deviceFormScreen } from './screens/deviceForm';
import { importScreen } from './screens/import';
import { adminScreen } from './screens/admin';
import { decodersScreen } from './screens/features';
import { notice, errorText } from './ui';
import { showInvitations } from './invitations';

// Screens with heavy libraries (Leaflet, uPlot) load on demand.
route('/', 'nav.overview', overviewScreen);
route('/map', 'nav.map', async (root) => (await import('./screens/map')).mapScreen(root));
route('/devices', 'nav.devices', devicesScreen);
route('/devices/new', 'form.newTitle', deviceFormScreen);
route('/devices/:id/edit', 'form.editTitle', deviceFormScreen);
route('/devices/:id', 'nav.devices', async (root, p) => (await import('./screens/device')).deviceScreen(root, p));
route('/import', 'nav.import', importScreen);
route('/gateways', 'nav.gateways', async (root) => (await import('./screens/gateways')).gatewaysScreen(root));
route('/gateways/:id', 'nav.gateways', async (root, p) => (await import('./screens/gateway')).gatewayScreen(root, p));
route('/compare', 'nav.compare', async (root) => (await import('./screens/compare')).compareScreen(root));
route('/alarms', 'nav.alarms', async (root) => (await import('./screens/alarms')).alarmsScreen(root));
route('/rules', 'nav.rules', async (root) => (await import('./screens/rules')).rulesScreen(root));
route('/integrations', 'nav.integrations', async (root) => (await import('./screens/integrations')).integrationsScreen(root));
route('/targets', 'nav.targets', async (root) => (await import('./screens/targets')).targetsScreen(root));
route('/open-data', 'nav.openData', async (root) => (await import('./screens/openData')).openDataScreen(root));
route('/privacy', 'nav.privacy', async (root) => (await import('./screens/privacy')).privacyScreen(root));
route('/decoders', 'nav.decoders', decodersScreen);
route('/admin', 'nav.admin', adminScreen);
// Saved dashboards (issue 21 §4).
route('/dashboards', 'nav.dashboards', async (root) => (await import('./screens/dashboards')).dashboardsScreen(root));
route('/dashboards/new', 'dash.new', async (root, p) => (await import('./screens/dashboardEditor')).dashboardEditorScreen(root, p));
route('/dashboards/:id/edit', 'dash.edit', async (root, p) => (await import('./screens/dashboardEditor')).dashboardEditorScreen(root, p));
route('/dashboards/:id', 'nav.dashboards', async (root, p) => (await import('./screens/dashboards')).dashboardScreen(root, p));
// Public pages, shown without login (and without the app's menu) to anyone.
route('/public/dashboards/:id', 'pubdash.title', async (root, p) => (await import('./screens/publicDashboard')).publicDashboardScreen(root, p));
const isPublic = (path: string) => path.startsWith('/public/');

const app = document.getElementById('app') as HTMLElement;
let cleanup: Cleanup;
let renderSeq = 0;

function langSelect(): HTMLElement {
  const sel = h('select', {
    id: 'lang-select',
    onchange: () => setLang(sel.value as Lang),
  }, h('option', { value: 'da', lang: 'da' }, 'Dansk'), h('option', { value: 'en', lang: 'en' }, 'English'));
  sel.value = getLang();
  return field(t('lang.label'), sel);
}

function shell(main: HTMLElement): HTMLElement {
  const path = location.pathname;
  // A member restricted to some applications gets the screens of devices and alarms only.
  const links: Array<[string, string]> = restricted() ? [
    ['/', 'nav.overview'], ['/dashboards', 'nav.dashboards'], ['/map', 'nav.map'], ['/devices', 'nav.devices'], ['/compare', 'nav.compare'], ['/alarms', 'nav.alarms'],
  ] : [
    ['/', 'nav.overview'], ['/dashboards', 'nav.dashboards'], ['/map', 'nav.map'], ['/devices', 'nav.devices'], ['/compare', 'nav.compare'], ['/alarms', 'nav.alarms'],
    ['/gateways', 'nav.gateways'], ['/rules', 'nav.rules'], ['/decoders', 'nav.decoders'], ['/integrations', 'nav.integrations'],
    ['/targets', 'nav.targets'], ['/open-data', 'nav.openData'], ['/privacy', 'nav.privacy'],
  ];
  if (isAdmin()) links.push(['/admin', 'nav.admin']);
  const orgSel = h('select', {
    id: 'org-select',
    onchange: () => { setOrg(Number(orgSel.value)); void startLive(); void render(); },
  }, state.orgs.map((o) => h('option', { value: String(o.id) }, o.name)));
  orgSel.value = String(state.orgId);
  const active = (href: string) => (href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`));
  return h('div', { class: 'layout' },
    h('a', { class: 'skip', href: '#main' }, t('app.skip')),
    h('header', { class: 'top' },
      h('a', { class: 'brand', href: '/' }, 'bysans'),
      // On a phone the menu and the tools fold behind this button (styles.css, max-width 700px).
      h('button', {
        type: 'button', id: 'menu-toggle', class: 'secondary', 'aria-expanded': 'false', 'aria-controls': 'main-nav',
        onclick: (e: Event) => {
          const b = e.currentTarget as HTMLButtonElement;
          const open = b.getAttribute('aria-expanded') !== 'true';
          b.setAttribute('aria-expanded', String(open));
          b.closest('header')?.classList.toggle('menu-open', open);
        },
      }, t('nav.menu'), alarmCountBadge()),
      h('nav', { 'aria-label': t('nav.main'), id: 'main-nav' },
        h('ul', null, links.map(([href, key]) =>
          h('li', null, h('a', { href, 'aria-current': active(href) ? 'page' : null }, t(key),
            href === '/alarms' ? alarmCountBadge('nav-alarm-count') : null))))),
      h('div', { class: 'tools' },
        state.orgs.length > 1 ? field(t('org.label'), orgSel) : null,
        langSelect(),
        h('span', { class: 'user' }, state.session?.user.name || state.session?.user.email),
        h('button', { type: 'button', id: 'logout', class: 'secondary', onclick: logout }, t('logout')))),
    main);
}

async function logout(): Promise<void> {
  try { await api.logout(); } catch { /* already gone */ }
  state.session = null;
  stopLive();
  setLoginMessage(t('login.loggedOut'));
  navigate('/login');
}

async function render(): Promise<void> {
  const seq = ++renderSeq;
  if (typeof cleanup === 'function') cleanup();
  cleanup = undefined;
  const path = location.pathname;
  if (isPublic(path)) { await renderPublic(seq); return; }
  if (!state.session) {
    if (path !== '/login') {
      sessionStorage.setItem('bysans.next', path + location.search);
      history.replaceState(null, '', '/login');
    }
    clear(app);
    const main = h('main', { id: 'main', class: 'login-main' });
    app.appendChild(main);
    loginScreen(main, { lang: langSelect() }, onLoggedIn);
    return;
  }
  if (path === '/login') { history.replaceState(null, '', '/'); }
  const m = match(location.pathname);
  const main = h('main', { id: 'main', tabindex: '-1' });
  clear(app);
  app.appendChild(shell(main));
  void showInvitations(main);
  if (!m) { main.appendChild(notice(t('notFound'), 'error')); return; }
  setScreenTitle(t(m.r.title));
  void refreshAlarmCount();
  try {
    const c = await m.r.screen(main, m.params);
    if (seq !== renderSeq) { if (typeof c === 'function') c(); return; }
    cleanup = c;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    if (seq === renderSeq) main.appendChild(notice(errorText(e), 'error'));
  }
  // Move focus to the page heading after navigation, for screen readers.
  if (seq === renderSeq && navigatedByUser) {
    (document.getElementById('page-title') ?? main).focus({ preventScroll: false });
  }
}

// A public page: the brand and the language only, whether or not someone is logged in.
async function renderPublic(seq: number): Promise<void> {
  const m = match(location.pathname);
  const main = h('main', { id: 'main', tabindex: '-1' });
  clear(app);
  app.appendChild(h('div', { class: 'layout public' },
    h('a', { class: 'skip', href: '#main' }, t('app.skip')),
    h('header', { class: 'top' }, h('span', { class: 'brand' }, 'bysans'), h('div', { class: 'tools' }, langSelect())),
    main));
  if (!m) { main.appendChild(notice(t('notFound'), 'error')); return; }
  setScreenTitle(t(m.r.title));
  try {
    const c = await m.r.screen(main, m.params);
    if (seq !== renderSeq) { if (typeof c === 'function') c(); return; }
    cleanup = c;
  } catch (e) {
    if (seq === renderSeq) main.appendChild(notice(errorText(e), 'error'));
  }
}

let navigatedByUser = false;
setNavigateHandler(() => { navigatedByUser = true; void render(); });
onLangChange(() => {
  void render().then(() => document.getElementById('lang-select')?.focus());
});

async function onLoggedIn(): Promise<void> {
  await loadOrgs();
  void startLive();
  const next = sessionStorage.getItem('bysans.next');
  sessionStorage.removeItem('bysans.next');
  navigate(next && next !== '/login' ? next : '/', true);
}

setUnauthorizedHandler(() => {
  if (!state.session) return;
  state.session = null;
  state.data = null;
  stopLive();
  setLoginMessage(t('login.expired'));
  sessionStorage.setItem('bysans.next', location.pathname + location.search);
  history.replaceState(null, '', '/login');
  void render();
});

async function boot(): Promise<void> {
  try {
    state.session = await api.me();
    await loadOrgs();
    void startLive();
  } catch (e) {
    state.session = null;
    if (!(e instanceof ApiError) || e.status !== 401) setLoginMessage(errorText(e));
  }
  await render();
}

// Notice an expired session even when the user is idle on one screen.
window.setInterval(() => {
  if (state.session && document.visibilityState === 'visible') api.meChecked().catch(() => {});
}, 60_000);

void boot();
