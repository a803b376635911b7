// Search: filters (Vorgangsnummer, family name, state, "contact required", a locked PIN, and the days
// it was registered, delivered, loaded or collected or its pickup deadline ends) live in the hash
// query (#/search?state=ready_in_box), so links – the dashboard's figures among them – and the back
// button keep a filtered list. The form only rewrites the hash; the results are a table of 20 per
// page with "Zurück"/"Weiter".

import { h, replace, field, errorSummary, notice } from '../dom.js';
import { api, ApiError } from '../api.js';
import { makeT, ts, fmtDate, fmtDateTime, fmtNumber, personName, errorText } from '../i18n.js';
import { displayVorgangsnummer } from '../vorgangsnummer.js';

export const css = true;

const PAGE_SIZE = 20;
const STATES = ['registered', 'in_production', 'delivered', 'assigned', 'ready_in_box', 'retrieval_due', 'ready_at_counter', 'collected', 'cancelled'];
const DAYS = ['createdFrom', 'createdTo', 'deliveredOn', 'loadedOn', 'collectedOn', 'pickupDeadline'];
const YES_NO = ['contactRequired', 'locked'];
const FILTERS = ['vorgangsnummer', 'name', 'state', ...YES_NO, ...DAYS];

const t = makeT({
  de: {
    title: 'Anträge suchen',
    filters: 'Suchfilter',
    vorgangsnummer: 'Vorgangsnummer',
    vorgangsnummerHint: 'Die ganze Nummer, mit oder ohne Bindestriche.',
    name: 'Familienname',
    nameHint: 'Der Anfang genügt, zum Beispiel „Kowa“.',
    state: 'Status',
    anyState: 'Alle Status',
    createdFrom: 'Erfasst ab',
    createdTo: 'Erfasst bis',
    days: 'Tage',
    deliveredOn: 'Geliefert am',
    loadedOn: 'Beladen am',
    collectedOn: 'Abgeholt am',
    pickupDeadline: 'Abholfrist endet am',
    contactRequired: 'Kontakt nötig',
    contactYes: 'Ja (SMS fehlgeschlagen)',
    locked: 'PIN gesperrt (nach Fehlversuchen)',
    any: 'Alle',
    yes: 'Ja',
    no: 'Nein',
    submit: 'Suchen',
    reset: 'Alle Filter zurücksetzen',
    results: 'Ergebnisse',
    range: 'Treffer {from}–{to} von {total}',
    none: 'Keine Anträge gefunden.',
    pastEnd: 'Auf dieser Seite gibt es keine Treffer mehr ({total} Treffer insgesamt).',
    noneHint: 'Prüfen Sie die Schreibweise oder entfernen Sie einen Filter.',
    caption: 'Gefundene Anträge, die neuesten zuerst',
    'col.vorgangsnummer': 'Vorgangsnummer',
    'col.name': 'Name',
    'col.document': 'Dokument',
    'col.state': 'Status',
    'col.pickup': 'Abholung',
    'col.created': 'Erfasst',
    'col.deadline': 'Abholfrist',
    contactFlag: 'Kontakt nötig',
    erased: 'Daten gelöscht',
    pages: 'Seiten',
    pageOf: 'Seite {page} von {pages}',
    badDate: 'Bitte geben Sie ein Datum ein, zum Beispiel 31.01.2026.',
    dateOrder: '„Erfasst bis“ darf nicht vor „Erfasst ab“ liegen.',
    badState: 'Diesen Status gibt es nicht.',
    badParameter: 'Dieser Wert ist nicht erlaubt.',
  },
  en: {
    title: 'Search applications',
    filters: 'Search filters',
    vorgangsnummer: 'Vorgangsnummer (reference number)',
    vorgangsnummerHint: 'The whole number, with or without hyphens.',
    name: 'Family name',
    nameHint: 'The beginning is enough, for example “Kowa”.',
    state: 'State',
    anyState: 'All states',
    createdFrom: 'Registered from',
    createdTo: 'Registered until',
    days: 'Days',
    deliveredOn: 'Delivered on',
    loadedOn: 'Loaded on',
    collectedOn: 'Collected on',
    pickupDeadline: 'Pickup deadline ends on',
    contactRequired: 'Contact required',
    contactYes: 'Yes (SMS failed)',
    locked: 'PIN locked (after failed attempts)',
    any: 'All',
    yes: 'Yes',
    no: 'No',
    submit: 'Search',
    reset: 'Reset all filters',
    results: 'Results',
    range: 'Results {from}–{to} of {total}',
    none: 'No applications found.',
    pastEnd: 'There are no more results on this page ({total} results in all).',
    noneHint: 'Check the spelling or remove a filter.',
    caption: 'Applications found, newest first',
    'col.vorgangsnummer': 'Vorgangsnummer',
    'col.name': 'Name',
    'col.document': 'Document',
    'col.state': 'State',
    'col.pickup': 'Pickup',
    'col.created': 'Registered',
    'col.deadline': 'Pickup deadline',
    contactFlag: 'Contact required',
    erased: 'Data erased',
    pages: 'Pages',
    pageOf: 'Page {page} of {pages}',
    badDate: 'Please enter a date, for example 31/01/2026.',
    dateOrder: '“Registered until” must not be before “Registered from”.',
    badState: 'There is no such state.',
    badParameter: 'This value is not allowed.',
  },
});

/** The server's words for a refused filter, in ours (the others are shared, see errorText). */
const CODES = {
  de: { too_long: 'Der Name darf höchstens 200 Zeichen haben.', invalid_parameter: 'Dieser Wert ist nicht erlaubt.' },
  en: { too_long: 'The name can have at most 200 characters.', invalid_parameter: 'This value is not allowed.' },
};

/** The hash of a search with these filters (empty values dropped) and page. */
function searchHash(filters, page = 1) {
  const params = new URLSearchParams();
  for (const name of FILTERS) if (filters[name]) params.set(name, filters[name]);
  if (page > 1) params.set('page', String(page));
  const qs = params.toString();
  return qs ? `/search?${qs}` : '/search';
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
/** `YYYY-MM-DD` naming a day that exists (not 2026-02-31). */
function isCalendarDay(value) {
  if (!ISO_DATE.test(value)) return false;
  const d = new Date(`${value}T12:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

/**
 * The problems of these filters, as {name: message}, found before asking: dates that are no days, a
 * range the wrong way round, values no list offers. Names go to the server as typed; it says what
 * it refuses (length, control characters) at the field.
 */
function validate(filters) {
  const problems = {};
  for (const name of DAYS) {
    if (filters[name] && !isCalendarDay(filters[name])) problems[name] = t('badDate');
  }
  if (!problems.createdFrom && !problems.createdTo && filters.createdFrom && filters.createdTo && filters.createdTo < filters.createdFrom) {
    problems.createdTo = t('dateOrder');
  }
  if (filters.state && !STATES.includes(filters.state)) problems.state = t('badState');
  for (const name of YES_NO) {
    if (filters[name] && !['true', 'false'].includes(filters[name])) problems[name] = t('badParameter');
  }
  return problems;
}

/** A message for a 400 the server sent about one field. */
function fieldMessage(error) {
  if (error.code === 'invalid_date') return t('badDate');
  if (error.field === 'state') return t('badState');
  return errorText(error, { codes: CODES });
}

// Set by the form so that the results, not the heading, get the focus after a search.
let focusResults = false;
// The last search shown, so that the detail page can lead back to the same list.
let lastSearch = '/search';

/** The hash path of the search the user saw last (with its filters and page). */
export function lastSearchPath() { return lastSearch; }

export async function render(ctx) {
  ctx.setTitle(t('title'));
  const q = ctx.query;
  const filters = Object.fromEntries(FILTERS.map((name) => [name, (q.get(name) || '').trim()]));
  const page = Math.min(Math.max(1, Number.parseInt(q.get('page') || '1', 10) || 1), Math.floor(100000 / PAGE_SIZE) + 1);
  lastSearch = searchHash(filters, page);

  const fields = {
    vorgangsnummer: field({ label: t('vorgangsnummer'), name: 'vorgangsnummer', hint: t('vorgangsnummerHint'), value: filters.vorgangsnummer, attrs: { autocapitalize: 'characters', spellcheck: 'false' } }),
    name: field({ label: t('name'), name: 'name', hint: t('nameHint'), value: filters.name, attrs: { spellcheck: 'false' } }),
    state: field({ label: t('state'), name: 'state', value: filters.state, options: [['', t('anyState')], ...STATES.map((s) => [s, ts(`state.${s}`)])] }),
    contactRequired: field({ label: t('contactRequired'), name: 'contactRequired', value: filters.contactRequired, options: [['', t('any')], ['true', t('contactYes')], ['false', t('no')]] }),
    locked: field({ label: t('locked'), name: 'locked', value: filters.locked, options: [['', t('any')], ['true', t('yes')], ['false', t('no')]] }),
    ...Object.fromEntries(DAYS.map((name) => [name, field({ label: t(name), name, type: 'date', value: filters[name], attrs: { class: 'short' } })])),
  };
  const summary = h('div', { class: 'error-summary', tabindex: '-1', hidden: true });
  const form = h('form', { class: 'search-form', role: 'search', 'aria-label': t('filters'), novalidate: true },
    h('div', { class: 'search-grid' }, ['vorgangsnummer', 'name', 'state', ...YES_NO].map((name) => fields[name].wrap)),
    h('fieldset', {}, h('legend', {}, t('days')), h('div', { class: 'search-days' }, DAYS.map((name) => fields[name].wrap))),
    h('div', { class: 'button-row' },
      h('button', { type: 'submit', class: 'button' }, t('submit')),
      h('a', { href: '#/search' }, t('reset'))));

  /** Shows problems at their fields and in the summary; true when there were none. */
  function showProblems(problems) {
    const list = [];
    for (const [name, f] of Object.entries(fields)) {
      f.setError(problems[name] || null);
      if (problems[name]) list.push({ message: problems[name], input: f.input });
    }
    errorSummary(summary, t('common.errorSummary'), list);
    return list.length === 0;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const typed = Object.fromEntries(FILTERS.map((name) => [name, fields[name].input.value.trim()]));
    if (!showProblems(validate(typed))) return;
    focusResults = true;
    ctx.navigate(searchHash(typed));
  });

  const results = h('section', { class: 'search-results', 'aria-labelledby': 'search-results-title' });
  replace(ctx.main, h('h1', {}, t('title')), summary, form, results);

  if (!showProblems(validate(filters))) { focusResults = false; return; }
  const wantFocus = focusResults;
  focusResults = false;
  let answer;
  try {
    answer = await api('GET', '/api/v1/applications', {
      query: { ...filters, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE }, signal: ctx.signal,
    });
  } catch (e) {
    if (e instanceof ApiError && e.status === 400 && e.field && fields[e.field]) {
      showProblems({ [e.field]: fieldMessage(e) });
      return;
    }
    if (e instanceof ApiError && e.status !== 401) {
      results.append(notice('error', h('p', {}, errorText(e))));
      return;
    }
    throw e;
  }
  drawResults(results, answer, filters, page);
  if (wantFocus) results.querySelector('h2')?.focus();
}

function drawResults(container, answer, filters, page) {
  const { items, total, offset } = answer;
  const title = h('h2', { id: 'search-results-title', tabindex: '-1' }, t('results'));
  if (!items.length) {
    replace(container, title,
      h('p', { class: 'search-count' }, total > 0 ? t('pastEnd', { total: fmtNumber(total) }) : t('none')),
      total > 0 ? null : h('p', { class: 'muted' }, t('noneHint')),
      pagination(filters, page, total));
    return;
  }
  const rows = items.map((a) => {
    const name = personName(a);
    return h('tr', {},
      h('td', {}, h('a', { href: `#/applications/${a.id}`, class: 'mono nowrap' }, displayVorgangsnummer(a.vorgangsnummer))),
      h('td', {}, name || h('span', { class: 'muted' }, t('erased')),
        a.contactRequired ? [' ', h('span', { class: 'flag-contact' }, t('contactFlag'))] : null),
      h('td', {}, ts(`doc.${a.documentType}`)),
      h('td', {}, h('span', { class: `badge badge-${a.state}` }, ts(`state.${a.state}`))),
      h('td', {}, ts(`pickup.${a.pickupMethod}`)),
      h('td', { class: 'nowrap' }, h('time', { datetime: a.createdAt }, fmtDateTime(a.createdAt))),
      h('td', { class: 'nowrap' }, a.pickupDeadline ? h('time', { datetime: a.pickupDeadline }, fmtDate(a.pickupDeadline)) : ts('common.none')));
  });
  const cols = ['vorgangsnummer', 'name', 'document', 'state', 'pickup', 'created', 'deadline'];
  replace(container, title,
    h('p', { class: 'search-count' }, t('range', { from: fmtNumber(offset + 1), to: fmtNumber(offset + items.length), total: fmtNumber(total) })),
    h('div', { class: 'table-wrap' },
      h('table', { class: 'search-table' },
        h('caption', { class: 'visually-hidden' }, t('caption')),
        h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, t(`col.${c}`))))),
        h('tbody', {}, rows))),
    pagination(filters, page, total));
}

/** "Zurück" and "Weiter" as links (so the back button and new tabs work), with "Seite 2 von 3". */
function pagination(filters, page, total) {
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  if (pages <= 1 && page <= 1) return null;
  return h('nav', { class: 'pagination', 'aria-label': t('pages') },
    page > 1 ? h('a', { href: `#${searchHash(filters, Math.min(page - 1, pages))}`, rel: 'prev' }, ts('common.previous')) : null,
    h('span', { class: 'muted' }, t('pageOf', { page: fmtNumber(page), pages: fmtNumber(pages) })),
    page < pages ? h('a', { href: `#${searchHash(filters, page + 1)}`, rel: 'next' }, ts('common.next')) : null);
}
