// The caseworker app's shell: session, navigation, language switch and the hash router that loads
// one module per page (pages/<name>.js, with pages/<name>.css when the module exports `css`).

import { h, replace } from './dom.js';
import { api, setCsrfToken, setUnauthenticatedHandler, setSessionHandler, ApiError } from './api.js';
import { lang, setLang, makeT } from './i18n.js';

const t = makeT({
  de: {
    skip: 'Zum Inhalt springen',
    product: 'pickupbox',
    'nav.label': 'Hauptnavigation',
    'nav.dashboard': 'Übersicht',
    'nav.register': 'Antrag erfassen',
    'nav.delivery': 'Lieferung',
    'nav.boxes': 'Boxen',
    'nav.search': 'Suche',
    'nav.admin': 'Verwaltung',
    'nav.approvals': 'Freigaben',
    'nav.privacy': 'Datenschutz',
    'nav.pending': '({count} offen)',
    switchLanguage: 'English',
    logout: 'Abmelden',
    signedInAs: 'Angemeldet als {name}',
    'role.caseworker': 'Sachbearbeitung',
    'role.supervisor': 'Leitung',
    notFound: 'Diese Seite gibt es nicht.',
    backHome: 'Zur Übersicht',
    loadFailed: 'Die Seite konnte nicht geladen werden.',
  },
  en: {
    skip: 'Skip to content',
    product: 'pickupbox',
    'nav.label': 'Main navigation',
    'nav.dashboard': 'Dashboard',
    'nav.register': 'Register application',
    'nav.delivery': 'Delivery',
    'nav.boxes': 'Boxes',
    'nav.search': 'Search',
    'nav.admin': 'Administration',
    'nav.approvals': 'Approvals',
    'nav.privacy': 'Privacy',
    'nav.pending': '({count} pending)',
    switchLanguage: 'Deutsch',
    logout: 'Log out',
    signedInAs: 'Signed in as {name}',
    'role.caseworker': 'Caseworker',
    'role.supervisor': 'Supervisor',
    notFound: 'There is no such page.',
    backHome: 'Go to the dashboard',
    loadFailed: 'The page could not be loaded.',
  },
});

const UUID = '([0-9a-fA-F-]{36})';
/** Every page of the app: hash path → module. */
const ROUTES = [
  { path: /^\/login$/, page: 'login', public: true },
  { path: /^\/$/, page: 'dashboard', nav: 'dashboard' },
  { path: /^\/register$/, page: 'register', nav: 'register' },
  { path: new RegExp(`^/applications/${UUID}$`), page: 'detail', params: ['id'], nav: 'search' },
  { path: new RegExp(`^/applications/${UUID}/letter$`), page: 'letter', params: ['id'], nav: 'register' },
  { path: /^\/search$/, page: 'search', nav: 'search' },
  { path: /^\/delivery$/, page: 'delivery', nav: 'delivery' },
  { path: /^\/boxes$/, page: 'boxes', nav: 'boxes' },
  { path: new RegExp(`^/boxes/${UUID}$`), page: 'box', params: ['id'], nav: 'boxes' },
  { path: /^\/approvals$/, page: 'approvals', nav: 'approvals', supervisor: true },
  { path: /^\/privacy$/, page: 'privacy', nav: 'privacy', supervisor: true },
  { path: /^\/admin(?:\/(users|sites|boxes|sms))?$/, page: 'admin', params: ['tab'], nav: 'admin', supervisor: true },
];
const NAV = ['dashboard', 'register', 'delivery', 'boxes', 'search'];
const SUPERVISOR_NAV = ['approvals', 'privacy', 'admin'];

const state = { me: null, leave: [], controller: null, focusLanguage: false };
const RETURN_KEY = 'pickupbox.return';
// Set while the user logs in again after an expired session: the page they return to gets back
// what they typed. Any other visit starts with empty forms.
const RESTORE_KEY = 'pickupbox.restore';
const FORM_PREFIX = 'pickupbox.form.';

function currentHash() { return location.hash.replace(/^#/, '') || '/'; }

export function navigate(path) {
  if (currentHash() === path) render();
  else location.hash = path;
}

/** Sends the user to the login page, remembering where they were (their form is kept already). */
function sessionExpired() {
  if (currentHash().startsWith('/login')) return;
  state.me = null;
  setCsrfToken(null);
  try {
    sessionStorage.setItem(RETURN_KEY, currentHash());
    sessionStorage.setItem(RESTORE_KEY, '1');
  } catch { /* best effort */ }
  location.hash = '/login?expired=1';
}
setUnauthenticatedHandler(sessionExpired);
// Another tab logged in anew: its session is ours too (one cookie).
setSessionHandler((session) => { state.me = { user: session.user, csrfToken: session.csrfToken }; });

function restoring() {
  try { return sessionStorage.getItem(RESTORE_KEY) === '1'; } catch { return false; }
}

/**
 * Keeps what the user typed into `form` in sessionStorage (per page and form name), so that a login
 * forced by an expired session does not lose it: restored only on the page shown after that login;
 * leaving the page otherwise, or any other visit, drops it. Passwords, files and
 * confirmations (`data-no-keep`: identity checked, fee paid, …) are never kept. clear() forgets it.
 */
function keepForm(form, name) {
  const key = FORM_PREFIX + currentHash().split('?')[0] + '.' + name;
  const fields = () => Array.from(form.elements).filter((el) => el.name && !el.hasAttribute('data-no-keep')
    && !['password', 'file', 'submit', 'button'].includes(el.type));
  const save = () => {
    const data = {};
    for (const el of fields()) data[el.name] = el.type === 'checkbox' ? el.checked : el.type === 'radio' ? (el.checked ? el.value : data[el.name]) : el.value;
    try { sessionStorage.setItem(key, JSON.stringify(data)); } catch { /* quota: not kept */ }
  };
  const clear = () => { try { sessionStorage.removeItem(key); } catch { /* ignore */ } };
  let restored = false;
  try {
    const data = restoring() ? JSON.parse(sessionStorage.getItem(key) || 'null') : null;
    if (data) {
      for (const el of fields()) {
        if (!(el.name in data)) continue;
        if (el.type === 'checkbox') el.checked = Boolean(data[el.name]);
        else if (el.type === 'radio') el.checked = el.value === data[el.name];
        else el.value = data[el.name] ?? '';
      }
      for (const el of fields()) el.dispatchEvent(new Event(el.tagName === 'SELECT' || el.type === 'checkbox' || el.type === 'radio' ? 'change' : 'input', { bubbles: true }));
      restored = true;
    } else clear();
  } catch { clear(); }
  form.addEventListener('input', save);
  form.addEventListener('change', save);
  // Leaving the page forgets it, unless the leaving is the way to a forced login.
  state.leave.push(() => { if (!restoring()) clear(); });
  return { restored, clear, save };
}

function forgetKeptForms() {
  try {
    for (const key of Object.keys(sessionStorage)) if (key.startsWith(FORM_PREFIX) || key === RETURN_KEY || key === RESTORE_KEY) sessionStorage.removeItem(key);
  } catch { /* ignore */ }
}

async function loadMe() {
  // /auth/session answers "not logged in" with 200, so an anonymous visit logs no failed request.
  const session = await api('GET', '/api/v1/auth/session');
  state.me = session.authenticated ? { user: session.user, csrfToken: session.csrfToken } : null;
  setCsrfToken(state.me ? state.me.csrfToken : null);
  return state.me;
}

/** Called by the login page with the session the server answered. */
function signedIn(session) {
  state.me = session;
  setCsrfToken(session.csrfToken);
  let target = '/';
  try {
    target = sessionStorage.getItem(RETURN_KEY) || '/';
    sessionStorage.removeItem(RETURN_KEY);
  } catch { /* ignore */ }
  navigate(target.startsWith('/login') ? '/' : target);
}

async function logout() {
  try { await api('POST', '/api/v1/auth/logout'); } catch { /* the session may be gone already */ }
  state.me = null;
  setCsrfToken(null);
  forgetKeptForms();
  navigate('/login');
}

function header(route) {
  const me = state.me;
  const switchLanguage = () => { setLang(lang() === 'de' ? 'en' : 'de'); state.focusLanguage = true; render(); };
  const langButton = h('button', { type: 'button', class: 'link-button lang-switch', lang: lang() === 'de' ? 'en' : 'de', on: { click: switchLanguage } }, t('switchLanguage'));
  const nav = me ? h('nav', { class: 'main-nav', 'aria-label': t('nav.label') }, h('ul', {},
    [...NAV, ...(me.user.role === 'supervisor' ? SUPERVISOR_NAV : [])].map((item) => {
      const href = item === 'dashboard' ? '#/' : `#/${item}`;
      return h('li', {}, h('a', { href, 'aria-current': route?.nav === item ? 'page' : undefined }, t(`nav.${item}`),
        item === 'approvals' ? h('span', { class: 'nav-count', id: 'nav-approvals-count' }) : null));
    }))) : null;
  const who = me ? h('p', { class: 'who' },
    h('span', {}, t('signedInAs', { name: me.user.displayName })), ' ',
    h('span', { class: 'role' }, `(${t(`role.${me.user.role}`)})`)) : null;
  return h('header', { class: 'site-header' },
    h('a', { class: 'skip-link', href: '#main', on: { click: (e) => { e.preventDefault(); document.getElementById('main')?.focus(); } } }, t('skip')),
    h('div', { class: 'header-bar' },
      h('a', { class: 'brand', href: '#/' }, t('product')),
      h('div', { class: 'header-tools' }, who, langButton,
        me ? h('button', { type: 'button', class: 'link-button', on: { click: logout } }, t('logout')) : null)),
    nav);
}

/**
 * The number of pending requests for approval beside "Freigaben": read with every page a supervisor
 * opens (one small request), or told by the approvals page after a decision
 * (`pickupbox:approvals` with {pending}). Nothing is shown while none waits or the count is unknown.
 */
function showApprovalCount(count) {
  const el = document.getElementById('nav-approvals-count');
  if (!el) return;
  if (!count) { el.replaceChildren(); return; }
  replace(el, h('span', { 'aria-hidden': 'true' }, String(count)), h('span', { class: 'visually-hidden' }, ` ${t('nav.pending', { count })}`));
}

function loadApprovalCount() {
  if (state.me?.user.role !== 'supervisor') return;
  api('GET', '/api/v1/approvals', { query: { state: 'pending', limit: 1 } })
    .then((page) => showApprovalCount(page?.total ?? 0), () => { /* the count is a hint; the page works without it */ });
}
window.addEventListener('pickupbox:approvals', (e) => {
  if (Number.isInteger(e.detail?.pending)) showApprovalCount(e.detail.pending);
  else loadApprovalCount();
});

function match(path) {
  for (const route of ROUTES) {
    const m = route.path.exec(path);
    if (m) {
      const params = {};
      (route.params || []).forEach((name, i) => { params[name] = m[i + 1]; });
      return { route, params };
    }
  }
  return null;
}

const loadedCss = new Set();
function loadCss(page) {
  if (loadedCss.has(page)) return Promise.resolve();
  loadedCss.add(page);
  return new Promise((resolve) => {
    const link = h('link', { rel: 'stylesheet', href: new URL(`./pages/${page}.css`, import.meta.url).href });
    link.addEventListener('load', resolve);
    link.addEventListener('error', resolve);
    document.head.append(link);
  });
}

let renderSeq = 0;
async function render() {
  const seq = ++renderSeq;
  for (const fn of state.leave.splice(0)) runQuietly(fn);
  state.controller?.abort();
  state.controller = new AbortController();
  const hash = currentHash();
  const [path, queryString] = hash.split('?');
  const query = new URLSearchParams(queryString || '');
  const app = document.getElementById('app');
  const found = match(path);

  if (!found?.route.public && !state.me) {
    await loadMe().catch(() => null);
    if (seq !== renderSeq) return;
    if (!state.me) {
      if (found) { try { sessionStorage.setItem(RETURN_KEY, hash); } catch { /* ignore */ } }
      location.hash = '/login';
      return;
    }
  }
  const main = h('main', { id: 'main', tabindex: '-1' });
  replace(app, header(found?.route), main, h('footer', { class: 'site-footer' }, h('p', {}, 'pickupbox')));
  // The approvals page says its own count when it has loaded.
  if (found?.route.page !== 'approvals') loadApprovalCount();
  if (!found || (found.route.supervisor && state.me?.user.role !== 'supervisor')) {
    document.title = `${t('notFound')} – pickupbox`;
    replace(main, h('h1', { tabindex: '-1' }, t('notFound')), h('p', {}, h('a', { href: '#/' }, t('backHome'))));
    placeFocus(main);
    return;
  }
  let module;
  try {
    module = await import(`./pages/${found.route.page}.js`);
    if (module.css) await loadCss(found.route.page);
  } catch (e) {
    console.error(e);
    replace(main, h('h1', { tabindex: '-1' }, t('loadFailed')));
    return;
  }
  if (seq !== renderSeq) return;
  const controller = state.controller;
  const ctx = {
    main,
    params: found.params,
    query,
    me: state.me,
    signal: state.controller.signal,
    navigate,
    keepForm,
    signedIn,
    // Registered after the user left (a page still finishing its render): run at once.
    onLeave: (fn) => { if (controller.signal.aborted) runQuietly(fn); else state.leave.push(fn); },
    setTitle: (text) => { document.title = `${text} – pickupbox`; },
  };
  try {
    await module.render(ctx);
  } catch (e) {
    if (e?.name === 'AbortError' || (e instanceof ApiError && e.status === 401)) return;
    console.error(e);
    main.append(h('div', { class: 'notice notice-error', role: 'alert' }, t('loadFailed')));
  }
  if (seq !== renderSeq) return;
  // The page after the login has had its chance to restore its forms.
  if (!found.route.public) { try { sessionStorage.removeItem(RESTORE_KEY); } catch { /* ignore */ } }
  placeFocus(main);
}

function runQuietly(fn) {
  try { fn(); } catch { /* cleanup must not block navigation */ }
}

/**
 * After a language switch the focus goes back to the language button; otherwise screen readers and
 * keyboard users start at the page's heading (unless the page put the focus somewhere itself).
 */
function placeFocus(main) {
  if (state.focusLanguage) {
    state.focusLanguage = false;
    const button = document.querySelector('.lang-switch');
    if (button) { button.focus(); return; }
  }
  const heading = main.querySelector('h1');
  if (heading && !main.contains(document.activeElement)) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  }
}

window.addEventListener('hashchange', render);
render();
