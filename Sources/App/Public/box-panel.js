// The box panel (/box-panel): a touch-panel look-alike of the box's screen for demos and staff
// training that speaks the real box API with a box token. It long-polls like a box (feed beside
// the screen), greets in the box's languages, runs the pickup dialogue (mobile number, PIN, the
// factors the server asks for, the compartment opening and the events a box sends) and service
// mode (loading, with two staff badges at four-eyes sites, and retrieval). The buttons under
// "Simulation" play the box's hardware: taking the document out, closing the door.

import { h, replace, field, errorSummary } from './dom.js';
import { lang as appLanguage } from './i18n.js';
import { savedToken, saveToken, forgetToken, plausibleToken, doneAssignments, boxCall, reportEvent, Poller } from './box-panel-api.js';
import { ui, panelText, uiLanguage, nativeName, direction } from './box-panel-texts.js';
import { keypad, compartment, doorPause } from './box-panel-parts.js';

const root = document.getElementById('box-panel');

const state = {
  token: savedToken(),
  poller: null,
  config: null,
  configKey: '',
  /** The panel's language: the box's default after every dialogue. */
  lang: appLanguage(),
  status: 'connecting',
  retryIn: 0,
  cursor: 0,
  feed: [],
  toLoad: new Map(),
  toRetrieve: new Map(),
  done: null,
  screen: 'setup',
  setupError: '',
  pickup: null,
  service: null,
  returnTimer: null,
};

const els = { screen: null, feedList: null, feedCursor: null, status: null, announce: null, site: null, worklists: null };

// --- words -----------------------------------------------------------------------------------

const uiLang = () => uiLanguage(state.lang);
const u = (key, vars) => ui(uiLang(), key, vars);
const pt = (key, vars) => panelText(state.config, state.lang, key, vars);

/** An element holding a panel text, with the language it is really in. */
function P(tag, key, vars, props = {}) {
  const text = pt(key, vars);
  return h(tag, { ...props, lang: text.lang, dir: text.dir }, text.text);
}

/** A server state in words; a code the page does not know stays as it is. */
function stateLabel(code) {
  const label = u(`state.${code}`);
  return label === `state.${code}` ? code : label;
}

/** What a change to the box means, in words ("zu beladen"). */
function kindLabel(kind) {
  const label = u(`kind.${kind}`);
  return label === `kind.${kind}` ? kind : label;
}

function errorText(prefix, e, vars = {}) {
  if (e.status === 0) return u('error.network');
  const key = `${prefix}.${e.code}`;
  const text = u(key, { state: e.body.state ? stateLabel(e.body.state) : '?', ...vars });
  return text === key ? u('error.unexpected', { code: e.code }) : text;
}

function formatDate(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || '');
  if (!m) return iso || '—';
  if (uiLang() === 'de') return `${m[3]}.${m[2]}.${m[1]}`;
  return new Date(`${iso}T12:00:00`).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric' });
}

let announceTimer = null;
function announce(text) {
  if (!els.announce) return;
  clearTimeout(announceTimer);
  els.announce.textContent = '';
  announceTimer = setTimeout(() => { if (els.announce) els.announce.textContent = text; }, 50);
}

// --- the page --------------------------------------------------------------------------------

function statusText() {
  if (state.status === 'online') return u('online');
  if (state.status === 'offline') return u('offline', { seconds: state.retryIn });
  if (state.status === 'paused') return u('paused');
  return u('connecting');
}

function header() {
  els.status = state.token ? h('p', { class: 'bp-status', role: 'status' }, `${u('connection')}: `, h('strong', { class: `bp-status-${state.status}` }, statusText())) : null;
  els.site = state.token ? h('p', { class: 'bp-site' }, state.config ? `${u('site')}: ${state.config.siteName}` : '') : null;
  const switcher = state.token ? null : h('button', {
    type: 'button', class: 'link-button', lang: uiLang() === 'de' ? 'en' : 'de',
    on: { click: () => { state.lang = uiLang() === 'de' ? 'en' : 'de'; renderAll(); } },
  }, u('switchLanguage'));
  const forget = state.token ? h('button', { type: 'button', class: 'link-button', on: { click: logout } }, u('forget')) : null;
  return h('header', { class: 'site-header' },
    h('div', { class: 'header-bar bp-header-bar' },
      h('p', { class: 'brand bp-brand' }, `${u('product')} · ${u('title')}`, h('span', { class: 'bp-subtitle' }, u('subtitle'))),
      h('div', { class: 'header-tools' }, els.site, els.status, switcher, forget)));
}

/** Builds the whole page for the current language; the screen and the feed are filled in. */
function renderAll(focus = true) {
  document.documentElement.lang = uiLang();
  document.title = `${u('title')} – pickupbox`;
  els.announce = h('p', { class: 'visually-hidden', 'aria-live': 'polite' });
  if (!state.token) {
    els.screen = null;
    const main = h('main', { id: 'main', class: 'bp-setup-main', tabindex: '-1' });
    replace(root, header(), main, els.announce);
    setupScreen(main);
    return;
  }
  els.screen = h('div', { class: 'bp-screen', on: { input: armReturn, click: armReturn } });
  els.worklists = null;
  els.feedCursor = h('p', { class: 'bp-feed-cursor muted' });
  els.feedList = h('ol', { class: 'bp-feed-list' });
  const feedHeading = h('h2', { id: 'bp-feed-title' }, u('feed'));
  const main = h('main', { id: 'main', class: 'bp-main', tabindex: '-1' },
    h('section', { class: 'bp-device', 'aria-label': u('screen') },
      h('div', { class: 'bp-bezel' }, els.screen, h('span', { class: 'bp-camera', 'aria-hidden': 'true' }))),
    h('aside', { class: 'bp-feed', 'aria-labelledby': 'bp-feed-title' },
      feedHeading,
      h('p', { class: 'hint' }, u('feedIntro')),
      els.feedCursor,
      h('div', { class: 'bp-feed-scroll', role: 'log', tabindex: '0', 'aria-labelledby': 'bp-feed-title' }, els.feedList)));
  replace(root, header(), main, els.announce);
  renderFeed();
  renderScreen(focus);
}

function updateStatus(status, retryIn = 0) {
  if (state.status === status && state.retryIn === retryIn) return;
  state.status = status;
  state.retryIn = retryIn;
  if (els.status) replace(els.status, `${u('connection')}: `, h('strong', { class: `bp-status-${status}` }, statusText()));
}

// --- set-up ----------------------------------------------------------------------------------

function setupScreen(main) {
  // autocomplete="off": the browser is not to offer saving the box token in its password manager.
  const token = field({ label: u('tokenLabel'), name: 'token', type: 'password', hint: u('tokenHint'), required: true, autocomplete: 'off', attrs: { spellcheck: 'false', autocapitalize: 'none', class: 'bp-token' } });
  const summary = h('div', { class: 'error-summary', tabindex: '-1', hidden: true });
  const form = h('form', { novalidate: true, class: 'bp-setup-form' }, token.wrap, h('div', { class: 'button-row' }, h('button', { type: 'submit', class: 'button' }, u('connect'))));
  const fail = (message) => {
    token.setError(message);
    errorSummary(summary, message, [{ message: u('tokenLabel'), input: token.input }]);
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = token.input.value.trim();
    if (!value) return fail(u('tokenMissing'));
    if (!plausibleToken(value)) return fail(u('tokenShape'));
    state.setupError = '';
    saveToken(value);
    state.token = value;
    connect();
  });
  replace(main,
    h('div', { class: 'bp-setup' },
      h('h1', {}, u('setupTitle')),
      h('p', {}, u('setupIntro')),
      summary,
      form));
  if (state.setupError) fail(state.setupError);
  else token.input.focus();
}

function connect() {
  state.status = 'connecting';
  state.screen = 'connecting';
  state.config = null;
  state.configKey = '';
  state.feed = [];
  state.toLoad.clear();
  state.toRetrieve.clear();
  state.poller = new Poller(state.token, { onFeed, onStatus, onUnauthorized: unauthorized });
  renderAll();
  if (document.visibilityState !== 'hidden') state.poller.start();
  else updateStatus('paused');
}

function stopPolling() {
  state.poller?.stop();
  state.poller = null;
}

function logout() {
  stopPolling();
  forgetToken();
  clearTimeout(state.returnTimer);
  state.token = '';
  state.setupError = '';
  state.screen = 'setup';
  state.pickup = null;
  state.service = null;
  renderAll();
}

/** The server no longer knows the token: back to the set-up screen, which says so. */
function unauthorized() {
  stopPolling();
  forgetToken();
  clearTimeout(state.returnTimer);
  state.token = '';
  state.setupError = u('tokenInvalid');
  state.screen = 'setup';
  renderAll();
}

// --- the long poll ---------------------------------------------------------------------------

function onStatus({ online, retryIn }) {
  updateStatus(online ? 'online' : 'offline', retryIn || 0);
}

function onFeed(feed) {
  state.cursor = feed.cursor;
  const config = feed.configuration;
  const first = !state.config;
  if (!state.done || state.config?.boxId !== config.boxId) state.done = doneAssignments(config.boxId);
  const key = JSON.stringify(config);
  const changed = key !== state.configKey;
  state.config = config;
  state.configKey = key;
  for (const change of feed.changes) applyChange(change);
  if (first) {
    state.lang = config.panelLanguages[0] || 'de';
    state.screen = 'idle';
    renderAll();
    return;
  }
  renderFeed();
  if (changed && els.site) els.site.textContent = `${u('site')}: ${config.siteName}`;
  // The idle and service screens show what the feed and the configuration say: refresh them in place.
  if (state.screen === 'idle' && changed) renderScreen(false);
  if (state.screen === 'service' && feed.changes.length) els.worklists?.();
}

function applyChange(change) {
  const id = change.assignmentId || `compartment-${change.compartmentNumber}`;
  const time = new Date().toLocaleTimeString(uiLang() === 'de' ? 'de-DE' : 'en-GB');
  state.feed.push({ ...change, time });
  if (state.feed.length > 200) state.feed.shift();
  if (change.kind === 'to_load' && !state.done.has(id)) state.toLoad.set(id, change);
  else if (change.kind === 'released') state.toLoad.delete(id);
  else if (change.kind === 'to_retrieve' && !state.done.has(id)) state.toRetrieve.set(id, change);
}

function renderFeed() {
  if (!els.feedList) return;
  els.feedCursor.textContent = u('feedCursor', { cursor: state.cursor });
  if (!state.feed.length) {
    replace(els.feedList, h('li', { class: 'muted' }, u('feedEmpty')));
    return;
  }
  replace(els.feedList, state.feed.map((c) => h('li', {},
    h('span', { class: 'bp-feed-seq' }, `#${c.seq}`), ' ',
    h('strong', {}, kindLabel(c.kind)), ' ',
    `${u('compartment')} ${c.compartmentNumber}`,
    c.documentNumbers?.length ? [' ', `${u('documents')} `, h('span', { class: 'mono' }, c.documentNumbers.join(', '))] : null,
    h('span', { class: 'bp-feed-time' }, c.time))));
  const scroller = els.feedList.parentElement;
  scroller.scrollTop = scroller.scrollHeight;
}

// Nothing runs while the page is hidden or left: the long poll stops (and resumes with the kept
// cursor, asking at once what happened meanwhile), the return-to-start countdown stops (and starts
// afresh), and a lost event's retry waits until the page is shown again (box-panel-api.js).
function pause() {
  clearTimeout(state.returnTimer);
  state.returnTimer = null;
  clearTimeout(announceTimer);
  if (state.poller?.running) {
    state.poller.stop();
    updateStatus('paused');
  }
}

function resume() {
  if (document.visibilityState === 'hidden') return;
  armReturn();
  state.poller?.start();
}

document.addEventListener('visibilitychange', () => (document.visibilityState === 'hidden' ? pause() : resume()));
window.addEventListener('pagehide', pause);
window.addEventListener('pageshow', (e) => { if (e.persisted) resume(); });

// --- screens ---------------------------------------------------------------------------------

const SCREENS = {};

/** Seconds without a touch after which a box goes back to its welcome screen. */
const RETURN_AFTER = { mobile: 120, pin: 120, factor: 120, refused: 60, thanks: 30 };

function armReturn() {
  clearTimeout(state.returnTimer);
  state.returnTimer = null;
  const seconds = RETURN_AFTER[state.screen];
  if (seconds && document.visibilityState !== 'hidden') state.returnTimer = setTimeout(() => { if (RETURN_AFTER[state.screen]) toIdle(); }, seconds * 1000);
}

function show(name) {
  state.screen = name;
  els.worklists = null;
  armReturn();
  renderScreen(true);
}

/** Fills the box's screen; moves the focus to the screen's field or heading and announces it. */
function renderScreen(focus) {
  if (!els.screen) return;
  const text = pt('welcome');
  els.screen.setAttribute('lang', text.lang);
  els.screen.setAttribute('dir', text.dir);
  const target = (SCREENS[state.screen] || SCREENS.connecting)(els.screen);
  const heading = els.screen.querySelector('h1');
  if (heading) heading.setAttribute('tabindex', '-1');
  if (!focus) return;
  if (heading) announce(heading.textContent);
  (target || heading)?.focus({ preventScroll: false });
}

/** A button in the panel's big style. */
function bigButton(text, onClick, variant = '') {
  return h('button', { type: 'button', class: ['bp-button', variant && `bp-button-${variant}`], on: { click: onClick } }, text);
}

function toIdle() {
  clearTimeout(state.returnTimer);
  state.pickup = null;
  state.service = null;
  const before = uiLang();
  state.lang = state.config?.panelLanguages?.[0] || state.lang;
  if (uiLang() !== before || state.screen !== 'idle') {
    state.screen = 'idle';
    renderAll();
  }
}

SCREENS.connecting = (screen) => {
  replace(screen, h('div', { class: 'bp-center' }, h('h1', {}, u('connecting')), h('span', { class: 'bp-spinner', 'aria-hidden': 'true' })));
};

SCREENS.idle = (screen) => {
  const config = state.config;
  const languages = config.panelLanguages.length > 1 ? h('div', { class: 'bp-languages', role: 'group', 'aria-label': u('languages') },
    config.panelLanguages.map((code) => h('button', {
      type: 'button', class: 'bp-language', lang: code, dir: direction(code), 'aria-pressed': code === state.lang ? 'true' : 'false', dataset: { lang: code },
      on: {
        click: () => {
          state.lang = code;
          renderAll(false);
          els.screen.querySelector(`[data-lang="${code}"]`)?.focus();
          announce(pt('welcome').text);
        },
      },
    }, nativeName(code)))) : null;
  replace(screen,
    h('p', { class: 'bp-screen-site' }, config.siteName),
    P('h1', 'welcome', null, { class: 'bp-welcome' }),
    languages,
    h('div', { class: 'bp-actions' },
      bigButton(u('collect'), () => { state.pickup = { mobile: '', answers: {} }; show('mobile'); }, 'primary'),
      bigButton(u('service'), () => { state.service = {}; show('service'); }, 'secondary')),
    h('section', { class: 'bp-hours', 'aria-labelledby': 'bp-hours-title' },
      h('h2', { id: 'bp-hours-title' }, u('pickupHours')),
      hoursList(config.pickupHours || [])));
};

/**
 * The pickup hours as the status page shows them: every weekday, "geschlossen" for a day without
 * hours, "rund um die Uhr" for 00:00–24:00 (one line when that holds every day). The box's
 * configuration carries no dated exceptions, so there are none to show.
 */
function hoursList(hours) {
  if (!hours.length) return h('p', {}, u('noHours'));
  const allDay = (x) => x.opens === '00:00' && x.closes === '24:00';
  const days = [1, 2, 3, 4, 5, 6, 7].map((weekday) => hours.filter((x) => x.weekday === weekday).sort((a, b) => a.opens.localeCompare(b.opens)));
  if (days.every((d) => d.length && d.some(allDay))) return h('p', {}, u('everyDayAllDay'));
  return h('ul', {}, days.map((d, i) => h('li', {}, h('span', { class: 'bp-weekday' }, u(`weekday${i + 1}`)), ' ',
    !d.length ? u('closed') : d.some(allDay) ? u('allDay') : d.map((x) => `${x.opens}–${x.closes}`).join(', '))));
}

// --- pickup dialogue -------------------------------------------------------------------------

/** The factors this panel asks for (others are left to the server). */
const KNOWN_FACTORS = ['pin_letter', 'date_of_birth', 'can', 'old_document_destroyed'];

/**
 * "Schritt n von m" of the pickup dialogue: mobile number, PIN, then the factors. Before the PIN
 * the factors are not known yet: the site's settings tell how many there will be at least (the old
 * document only comes with a renewal).
 */
function stepLine(n) {
  const p = state.pickup || {};
  const settings = state.config?.pickupSettings || {};
  const factors = p.factors ? p.factors.filter((f) => KNOWN_FACTORS.includes(f)).length
    : (settings.pinLetter ? 1 : 0) + (settings.secondFactor && settings.secondFactor !== 'none' ? 1 : 0);
  return h('p', { class: 'bp-step' }, u('step', { n, total: 2 + factors }));
}

/** The step number of the current factor (the mobile number is 1, the PIN 2). */
function factorStep() {
  const p = state.pickup;
  return 3 + p.factors.slice(0, p.step).filter((f) => KNOWN_FACTORS.includes(f)).length;
}

/** One input step of the dialogue: step line, heading (a panel text), field, keypad, Continue and Cancel. */
function inputStep(screen, { step, headingKey, label, name, type = 'text', inputmode = 'numeric', autocomplete = 'off', maxlength, extraKey, value, check, onValid, error, back }) {
  // A shared panel: the browser is to keep nothing in its autofill or password manager
  // ("off"; "one-time-code" for the PIN and the CAN).
  const f = field({ label, name, type, inputmode, autocomplete, value, attrs: { class: 'bp-input', maxlength, spellcheck: 'false', autocapitalize: 'none' } });
  const summary = h('div', { class: 'error-summary', tabindex: '-1', hidden: true });
  const fail = (message) => {
    f.setError(message);
    errorSummary(summary, u('errorSummary'), [{ message, input: f.input }]);
  };
  const form = h('form', { novalidate: true, class: 'bp-form' },
    f.wrap,
    keypad(f.input, { extra: extraKey, label: u('keypad'), deleteLabel: u('deleteDigit') }),
    h('div', { class: 'bp-actions' },
      h('button', { type: 'submit', class: 'bp-button bp-button-primary' }, u('next')),
      back ? bigButton(u('back'), back, 'secondary') : null,
      bigButton(u('cancel'), toIdle, 'quiet')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const problem = check(f.input.value.trim());
    if (problem) fail(problem);
    else onValid(f.input.value.trim());
  });
  replace(screen, stepLine(step), P('h1', headingKey), summary, form);
  if (error) { fail(error); return summary; }
  return f.input;
}

// Only an empty field is caught here: the server reads every way people write a number
// ("(0151) 2345678", "+49 (0)151 …") and decides.
SCREENS.mobile = (screen) => inputStep(screen, {
  step: 1, headingKey: 'enterMobile', label: u('mobile'), name: 'mobile', type: 'tel', inputmode: 'tel', maxlength: 32, extraKey: '+',
  value: state.pickup.mobile, error: state.pickup.error,
  check: (v) => (v ? null : u('mobileMissing')),
  onValid: (v) => { state.pickup.mobile = v; state.pickup.error = null; show('pin'); },
});

SCREENS.pin = (screen) => inputStep(screen, {
  step: 2, headingKey: 'enterPin', label: u('pin'), name: 'pin', type: 'password', autocomplete: 'one-time-code', maxlength: 6, error: state.pickup.error,
  check: (v) => (/^[0-9]{6}$/.test(v) ? null : u('pinShape')),
  onValid: (pin) => { state.pickup.error = null; startPickup(pin); },
  back: () => show('mobile'),
});

SCREENS.working = (screen) => {
  replace(screen, h('div', { class: 'bp-center' }, h('h1', {}, u('checking')), h('span', { class: 'bp-spinner', 'aria-hidden': 'true' })));
};

/** A refusal or a stop, as the server says it (the same words for every wrong input). */
SCREENS.refused = (screen) => {
  const { key, text } = state.pickup?.refusal || { key: 'refused' };
  replace(screen,
    h('div', { class: 'bp-message bp-message-refused', role: 'alert' }, text ? h('h1', {}, text) : P('h1', key)),
    h('div', { class: 'bp-actions' },
      key === 'refused' || text ? bigButton(u('retry'), () => { state.pickup = { mobile: '', answers: {} }; show('mobile'); }, 'primary') : null,
      bigButton(u('toStart'), toIdle, 'secondary')));
  return screen.querySelector('.bp-actions button');
};

/** Shows a refusal; of the dialogue only the refusal is kept (no number, PIN or answer). */
function refuse(key, text) {
  state.pickup = { refusal: { key, text } };
  show('refused');
}

/** What the box shows for an answer that is not a success. */
function pickupFailure(e, { fieldStep } = {}) {
  if (e.status === 401) return unauthorized();
  if (e.code === 'pickup_refused') return refuse('refused');
  if (e.code === 'outside_pickup_hours') return refuse('outsideHours');
  if (e.code === 'deadline_passed') return refuse('deadlinePassed');
  if (e.code === 'box_throttled' || e.status === 429) return refuse('boxBlocked');
  if (e.code === 'pickup_expired' || e.code === 'pickup_not_found') return refuse(null, u('expired'));
  if (fieldStep && e.status === 400 && e.body.field === 'mobileNumber') {
    state.pickup.error = u('mobileInvalid');
    return show('mobile');
  }
  return refuse(null, e.status === 0 ? u('error.network') : u('error.unexpected', { code: e.code }));
}

async function startPickup(pin) {
  show('working');
  try {
    const session = await boxCall(state.token, 'POST', '/api/v1/box/pickups', { body: { mobileNumber: state.pickup.mobile, pin } });
    // The number and PIN are not kept beyond this answer.
    state.pickup = { session, factors: session.factors || [], step: 0, answers: {} };
    nextFactor();
  } catch (e) {
    pickupFailure(e, { fieldStep: true });
  }
}

function nextFactor() {
  const p = state.pickup;
  if (p.step < p.factors.length) show('factor');
  else giveFactors();
}

function answered(values) {
  Object.assign(state.pickup.answers, values);
  state.pickup.step += 1;
  nextFactor();
}

SCREENS.factor = (screen) => {
  const factor = state.pickup.factors[state.pickup.step];
  if (factor === 'pin_letter') {
    replace(screen, stepLine(factorStep()), P('h1', 'confirmPinLetter'),
      h('div', { class: 'bp-actions' },
        bigButton(u('yes'), () => answered({ pinLetterConfirmed: true }), 'primary'),
        bigButton(u('no'), () => answered({ pinLetterConfirmed: false }), 'secondary'),
        bigButton(u('cancel'), toIdle, 'quiet')));
    return screen.querySelector('.bp-actions button');
  }
  if (factor === 'date_of_birth') {
    return inputStep(screen, {
      step: factorStep(), headingKey: 'enterDateOfBirth', label: u('dateOfBirth'), name: 'dateOfBirth', maxlength: 10, extraKey: '.',
      check: (v) => (/^[0-9Xx]{1,2}\.[0-9Xx]{1,2}\.[0-9]{4}$/.test(v) ? null : u('dateShape')),
      onValid: (v) => answered({ dateOfBirth: v }),
    });
  }
  if (factor === 'can') {
    return inputStep(screen, {
      step: factorStep(), headingKey: 'enterCan', label: u('can'), name: 'can', type: 'password', autocomplete: 'one-time-code', maxlength: 6,
      check: (v) => (/^[0-9]{6}$/.test(v) ? null : u('canShape')),
      onValid: (v) => answered({ can: v }),
    });
  }
  if (factor === 'old_document_destroyed') {
    replace(screen, stepLine(factorStep()), P('h1', 'insertOldDocument'),
      h('div', { class: 'bp-actions' }, bigButton(u('cancel'), toIdle, 'quiet')),
      trainer(bigButton(u('insertOld'), () => answered({ oldDocumentInserted: true }), 'hardware')));
    return screen.querySelector('.bp-trainer button');
  }
  // A factor this panel does not know: the server decides with what it has.
  state.pickup.step += 1;
  queueMicrotask(nextFactor);
  return null;
};

async function giveFactors() {
  show('working');
  try {
    const open = await boxCall(state.token, 'POST', `/api/v1/box/pickups/${encodeURIComponent(state.pickup.session.pickupId)}/factors`, { body: state.pickup.answers });
    state.pickup = { open, index: 0, oldDocument: state.pickup.answers.oldDocumentInserted === true, stage: 'opening', result: null };
    openForPickup();
  } catch (e) {
    pickupFailure(e);
  }
}

/** The simulated hardware under the screen's own buttons. */
function trainer(...buttons) {
  return h('div', { class: 'bp-trainer' },
    h('h2', {}, u('trainer')),
    h('p', { class: 'bp-trainer-hint' }, u('trainerHint')),
    h('div', { class: 'bp-actions' }, buttons));
}

function currentCompartment() {
  const p = state.pickup;
  return p.open.compartmentNumbers[p.index];
}

/** Reports an event; on a refusal the screen says so (unless `handle(error)` took care of it: true) and the caller stops. */
async function event(kind, number, assignmentId, { handle } = {}) {
  try {
    return await reportEvent(state.token, kind, number, assignmentId);
  } catch (e) {
    if (e.status === 401) { unauthorized(); return null; }
    if (handle?.(e)) return null;
    const note = els.screen?.querySelector('.bp-event-error');
    const message = `${u('eventFailed', { kind, code: e.code })} ${errorText('event', e)}`;
    if (note) { note.textContent = message; note.hidden = false; }
    return null;
  }
}

async function openForPickup() {
  state.pickup.stage = 'opening';
  show('open');
  const result = await event('opened', currentCompartment(), state.pickup.open.assignmentId);
  if (!result || state.screen !== 'open') return;
  state.pickup.stage = 'opened';
  state.pickup.door.open();
  renderTrainerForPickup(true);
}

SCREENS.open = (screen) => {
  const p = state.pickup;
  const n = currentCompartment();
  p.door = compartment(n, { withDocument: p.stage === 'opening' || p.stage === 'opened', open: p.stage !== 'opening' });
  p.trainerBox = h('div', {});
  replace(screen,
    h('h1', { lang: uiLang() }, u('opening', { n })),
    p.stage === 'removed' ? P('p', 'closeDoor', null, { class: 'bp-lead' }) : P('p', 'compartmentOpen', { compartment: n }, { class: 'bp-lead' }),
    h('div', { class: 'bp-door-stage' }, p.door.el),
    h('p', { class: 'notice notice-error bp-event-error', role: 'alert', hidden: true }),
    p.trainerBox);
  return renderTrainerForPickup(false);
};

function renderTrainerForPickup(focus) {
  const p = state.pickup;
  let button;
  if (p.stage === 'removed') button = bigButton(u('closeDoorButton'), closeAfterPickup, 'hardware');
  else button = bigButton(u('takeOut'), takeOut, 'hardware');
  replace(p.trainerBox, trainer(button));
  if (p.stage === 'opening') { button.disabled = true; return null; }
  if (focus) button.focus();
  return button;
}

async function takeOut(clickEvent) {
  const button = clickEvent.currentTarget;
  button.disabled = true;
  const p = state.pickup;
  const n = currentCompartment();
  if (!await event('document_removed', n, p.open.assignmentId)) { button.disabled = false; return; }
  if (p.oldDocument && !await event('old_document_destroyed', n, p.open.assignmentId)) return;
  p.stage = 'removed';
  p.door.empty();
  const lead = els.screen.querySelector('.bp-lead');
  const text = pt('closeDoor');
  lead.textContent = text.text;
  lead.setAttribute('lang', text.lang);
  announce(text.text);
  renderTrainerForPickup(true);
}

async function closeAfterPickup(clickEvent) {
  clickEvent.currentTarget.disabled = true;
  const p = state.pickup;
  p.door.close();
  const [result] = await Promise.all([event('closed', currentCompartment(), p.open.assignmentId), doorPause()]);
  if (!result) return;
  p.result = result.state;
  if (p.index + 1 < p.open.compartmentNumbers.length) {
    p.index += 1;
    openForPickup();
    return;
  }
  show('thanks');
}

SCREENS.thanks = (screen) => {
  replace(screen,
    h('div', { class: 'bp-message bp-message-done' }, P('h1', 'thankYou')),
    h('p', { class: 'bp-server-note', lang: uiLang() }, u('collected', { state: stateLabel(state.pickup.result) })),
    h('div', { class: 'bp-actions' }, bigButton(u('done'), toIdle, 'primary')));
};

// --- service mode ----------------------------------------------------------------------------

/** Only an empty field is caught here: the server checks the alphabet and the check digit and says
 *  what is wrong (invalid_document_number, document_check_digit_mismatch), shown at the field. */
function documentProblem(raw) {
  return raw.trim() ? null : u('documentMissing');
}

SCREENS.service = (screen) => {
  const s = state.service;
  // The server may know better than the configuration the panel has (a site switched to four eyes
  // since): after its refusal of a loading without badges they are asked for.
  const fourEyes = Boolean(state.config.pickupSettings?.fourEyesLoading) || Boolean(s.fourEyes);
  const doc = field({ label: u('documentNumber'), name: 'documentNumber', hint: u('documentHint'), autocomplete: 'off', value: s.documentNumber, attrs: { class: 'bp-input', maxlength: 14, spellcheck: 'false', autocapitalize: 'characters' } });
  const badges = fourEyes ? [
    field({ label: u('badge1'), name: 'badge1', type: 'password', autocomplete: 'off', attrs: { class: 'bp-input', maxlength: 64 } }),
    field({ label: u('badge2'), name: 'badge2', type: 'password', autocomplete: 'off', attrs: { class: 'bp-input', maxlength: 64 } }),
  ] : [];
  const summary = h('div', { class: 'error-summary', tabindex: '-1', hidden: true });
  const submit = h('button', { type: 'submit', class: 'bp-button bp-button-primary' }, u('openCompartment'));
  const form = h('form', { novalidate: true, class: 'bp-form bp-service-form' },
    fourEyes ? h('p', { class: 'notice bp-four-eyes' }, u('fourEyes')) : null,
    doc.wrap, badges.map((b) => b.wrap), h('div', { class: 'bp-actions' }, submit));
  doc.input.addEventListener('input', () => { s.documentNumber = doc.input.value; });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const problems = [];
    for (const f of [doc, ...badges]) f.setError(null);
    const docProblem = documentProblem(doc.input.value);
    if (docProblem) problems.push({ message: docProblem, input: doc.input, field: doc });
    const values = badges.map((b) => b.input.value.trim());
    badges.forEach((b, i) => {
      const message = !values[i] ? u('badgeMissing', { which: u(`badge${i + 1}`) }) : !/^[\x21-\x7e]{4,64}$/.test(values[i]) ? u('badgeShape') : null;
      if (message) problems.push({ message, input: b.input, field: b });
    });
    if (!problems.length && fourEyes && values[0] === values[1]) problems.push({ message: u('badgeSame'), input: badges[1].input, field: badges[1] });
    if (problems.length) {
      for (const p of problems) p.field.setError(p.message);
      errorSummary(summary, u('errorSummary'), problems);
      return;
    }
    submit.disabled = true;
    try {
      const body = { documentNumber: doc.input.value.replace(/\s/g, '').toUpperCase() };
      if (fourEyes) body.staffBadges = values;
      s.load = await boxCall(state.token, 'POST', '/api/v1/box/loading', { body });
      s.scanned = body.documentNumber;
      s.documentNumber = '';
      s.error = null;
      show('loadOpen');
    } catch (err) {
      submit.disabled = false;
      if (err.status === 401) { unauthorized(); return; }
      for (const b of badges) b.input.value = '';
      // Blocked after too many refused scans: no field is wrong, the box waits (Retry-After).
      const message = errorText('load', err, { minutes: Math.max(1, Math.ceil((err.retryAfter || 60) / 60)) });
      const target = err.code === 'box_throttled' ? null
        : err.body.field === 'staffBadges' || err.code === 'unknown_badge' || err.code === 'four_eyes_required' ? badges[0] : doc;
      target?.setError(message);
      errorSummary(summary, message, target ? [{ message: target === doc ? u('documentNumber') : u('badge1'), input: target.input }] : undefined);
    }
  });

  const manual = field({ label: u('retrieveManual'), name: 'retrieveNumber', hint: u('retrieveHint'), inputmode: 'numeric', autocomplete: 'off', attrs: { class: 'bp-input bp-input-short', maxlength: 5 } });
  const retrieveSummary = h('div', { class: 'error-summary', tabindex: '-1', hidden: true });
  const retrieveForm = h('form', { novalidate: true, class: 'bp-form' }, manual.wrap, h('div', { class: 'bp-actions' }, h('button', { type: 'submit', class: 'bp-button bp-button-secondary' }, u('retrieveOpen'))));
  retrieveForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = manual.input.value.trim();
    const n = Number(text);
    if (!/^[0-9]{1,5}$/.test(text) || n < 1 || n > 10000) {
      manual.setError(u('retrieveMissing'));
      errorSummary(retrieveSummary, u('errorSummary'), [{ message: u('retrieveMissing'), input: manual.input }]);
      return;
    }
    const known = [...state.toRetrieve.values()].find((c) => c.compartmentNumber === n);
    startRetrieval(n, known?.assignmentId);
  });

  // The work the feed reports; refreshed in place when the long poll brings more.
  const loadList = h('div', {});
  const retrieveList = h('div', {});
  els.worklists = () => {
    const loadItems = [...state.toLoad.values()].filter((c) => c.documentNumbers?.length);
    const retrieveItems = [...state.toRetrieve.values()];
    replace(loadList, loadItems.length ? h('ul', { class: 'bp-worklist' }, loadItems.map((c) => h('li', {},
      h('span', {}, `${u('compartment')} ${c.compartmentNumber}: `, h('span', { class: 'mono' }, c.documentNumbers.join(', '))),
      h('button', {
        type: 'button', class: 'button secondary',
        on: { click: () => { doc.input.value = c.documentNumbers[0]; s.documentNumber = doc.input.value; doc.input.focus(); } },
      }, u('takeOver', { number: c.documentNumbers[0] }))))) : h('p', { class: 'muted' }, u('nothingToLoad')));
    replace(retrieveList, retrieveItems.length ? h('ul', { class: 'bp-worklist' }, retrieveItems.map((c) => h('li', {},
      h('span', {}, `${u('compartment')} ${c.compartmentNumber}`),
      h('button', { type: 'button', class: 'button secondary', on: { click: () => startRetrieval(c.compartmentNumber, c.assignmentId) } },
        u('retrieveButton', { n: c.compartmentNumber }))))) : h('p', { class: 'muted' }, u('nothingToRetrieve')));
  };
  els.worklists();

  replace(screen,
    h('h1', {}, u('serviceTitle')),
    h('p', {}, u('serviceIntro')),
    s.error ? h('div', { class: 'notice notice-error', role: 'alert' }, h('p', {}, s.error)) : null,
    h('section', { class: 'bp-service-section', 'aria-labelledby': 'bp-load-title' },
      h('h2', { id: 'bp-load-title' }, u('loadTitle')),
      summary, form,
      h('h3', {}, u('toLoad')),
      loadList),
    h('section', { class: 'bp-service-section', 'aria-labelledby': 'bp-retrieve-title' },
      h('h2', { id: 'bp-retrieve-title' }, u('toRetrieve')),
      retrieveList,
      retrieveSummary, retrieveForm),
    h('div', { class: 'bp-actions' }, bigButton(u('leaveService'), toIdle, 'quiet')));
  return s.error ? screen.querySelector('[role="alert"]') : doc.input;
};

SCREENS.loadOpen = (screen) => {
  const load = state.service.load;
  const n = load.compartmentNumber;
  const contents = load.contents.map((c) => u(`content_${c}`, { numbers: load.documentNumbers.join(', ') })).join(', ');
  const door = compartment(n, { withDocument: false });
  const close = bigButton(u('closeDoorButton'), async () => {
    close.disabled = true;
    door.fill();
    door.close();
    // A four-eyes site refuses a loading its two badges did not authorise: nothing happened at the
    // server, so the document is scanned again, this time with both badges.
    let refused = false;
    const fourEyesMissing = (e) => {
      if (e.code !== 'four_eyes_missing') return false;
      refused = true;
      state.service = { error: errorText('event', e), documentNumber: state.service.scanned || load.documentNumbers?.[0] || '', fourEyes: true };
      return true;
    };
    const [result] = await Promise.all([event('loaded', n, load.assignmentId, { handle: fourEyesMissing }), doorPause()]);
    if (refused) { if (state.screen === 'loadOpen') show('service'); return; }
    if (!result) { door.open(); close.disabled = false; return; }
    state.done.add(load.assignmentId);
    state.toLoad.delete(load.assignmentId);
    state.service.result = result;
    show('loaded');
  }, 'hardware');
  replace(screen,
    h('h1', {}, u('loadOpening', { n, contents })),
    h('p', { class: 'bp-lead' }, u('loadClose')),
    h('div', { class: 'bp-door-stage' }, door.el),
    h('p', { class: 'notice notice-error bp-event-error', role: 'alert', hidden: true }),
    trainer(close));
  door.open();
  return close;
};

SCREENS.loaded = (screen) => {
  const { load, result } = state.service;
  replace(screen,
    h('div', { class: 'bp-message bp-message-done' }, h('h1', {}, u('loaded', { n: load.compartmentNumber }))),
    h('p', { class: 'bp-server-note' }, u('loadedState', { state: stateLabel(result.state), deadline: formatDate(result.pickupDeadline) })),
    h('div', { class: 'bp-actions' },
      bigButton(u('nextDocument'), () => { state.service = {}; show('service'); }, 'primary'),
      bigButton(u('leaveService'), toIdle, 'quiet')));
  return screen.querySelector('.bp-actions button');
};

function startRetrieval(number, assignmentId) {
  state.service.retrieve = { number, assignmentId };
  show('retrieveOpen');
}

SCREENS.retrieveOpen = (screen) => {
  const { number: n, assignmentId } = state.service.retrieve;
  const door = compartment(n, { withDocument: true });
  const takeOutFirst = bigButton(u('takeOut'), () => {
    door.empty();
    takeOutFirst.hidden = true;
    close.hidden = false;
    close.focus();
  }, 'hardware');
  const close = bigButton(u('closeDoorButton'), async () => {
    close.disabled = true;
    door.close();
    const [result] = await Promise.all([event('retrieved', n, assignmentId), doorPause()]).catch(() => [null]);
    if (!result) {
      if (state.screen !== 'retrieveOpen') return;
      // The server says the compartment was not due: staff put the document back and close it.
      state.service = { error: els.screen.querySelector('.bp-event-error')?.textContent || u('error.network') };
      show('service');
      return;
    }
    if (assignmentId) state.done.add(assignmentId);
    for (const [id, c] of state.toRetrieve) if (c.compartmentNumber === n) state.toRetrieve.delete(id);
    state.service.result = result;
    show('retrieved');
  }, 'hardware');
  close.hidden = true;
  replace(screen,
    h('h1', {}, u('retrieveOpening', { n })),
    h('p', { class: 'bp-lead' }, u('retrieveClose')),
    h('div', { class: 'bp-door-stage' }, door.el),
    h('p', { class: 'notice notice-error bp-event-error', role: 'alert', hidden: true }),
    trainer(takeOutFirst, close));
  door.open();
  return takeOutFirst;
};

SCREENS.retrieved = (screen) => {
  const { retrieve, result } = state.service;
  replace(screen,
    h('div', { class: 'bp-message bp-message-done' }, h('h1', {}, u('retrieved', { n: retrieve.number }))),
    h('p', { class: 'bp-server-note' }, u('retrievedState', { state: stateLabel(result.state) })),
    h('div', { class: 'bp-actions' },
      bigButton(u('nextDocument'), () => { state.service = {}; show('service'); }, 'primary'),
      bigButton(u('leaveService'), toIdle, 'quiet')));
  return screen.querySelector('.bp-actions button');
};

// --- start -----------------------------------------------------------------------------------

if (state.token) connect();
else renderAll();
