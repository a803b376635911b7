// Search: filters (Vorgangsnummer, family name, state, creation dates, "contact required") live in
// the hash query (#/search?state=ready_in_box), so links and the back button keep a filtered list.
// The form only rewrites the hash; the results are a table of 20 per page with "Zurück"/"Weiter".

import { h, replace, field, errorSummary, notice } from '../dom.js';
import { api, ApiError } from '../api.js';
import { makeT, ts, fmtDate, fmtDateTime, fmtNumber } from '../i18n.js';

export const css = true;

const PAGE_SIZE = 20;
const STATES = ['registered', 'in_production', 'delivered', 'assigned', 'ready_in_box', 'retrieval_due', 'ready_at_counter', 'collected', 'cancelled'];
const FILTERS = ['vorgangsnummer', 'name', 'state', 'createdFrom', 'createdTo', 'contactRequired'];

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
    contactRequired: 'Kontakt nötig',
    contactAny: 'Egal',
    contactYes: 'Ja (SMS fehlgeschlagen)',
    contactNo: 'Nein',
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
    nameTooLong: 'Der Name darf höchstens 200 Zeichen haben.',
    badCharacters: 'Der Name enthält unerlaubte Zeichen.',
    badState: 'Diesen Status gibt es nicht.',
    badParameter: 'Dieser Wert ist nicht erlaubt.',
  },
  en: {
    title: 'Search applications',
    filters: 'Search filters',
    vorgangsnummer: 'Case number (Vorgangsnummer)',
    vorgangsnummerHint: 'The whole number, with or without hyphens.',
    name: 'Family name',
    nameHint: 'The beginning is enough, for example “Kowa”.',
    state: 'State',
    anyState: 'All states',
    createdFrom: 'Registered from',
    createdTo: 'Registered until',
    contactRequired: 'Contact required',
    contactAny: 'Any',
    contactYes: 'Yes (SMS failed)',
    contactNo: 'No',
    submit: 'Search',
    reset: 'Reset all filters',
    results: 'Results',
    range: 'Results {from}–{to} of {total}',
    none: 'No applications found.',
    pastEnd: 'There are no more results on this page ({total} results in all).',
    noneHint: 'Check the spelling or remove a filter.',
    caption: 'Applications found, newest first',
    'col.vorgangsnummer': 'Case number',
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
    nameTooLong: 'The name can have at most 200 characters.',
    badCharacters: 'The name contains characters that are not allowed.',
    badState: 'There is no such state.',
    badParameter: 'This value is not allowed.',
  },
});

const GENERATED_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXY';

/**
 * A Vorgangsnummer as people read it: generated numbers (ten symbols with a valid check symbol)
 * grouped `K7M-4XQ-9TR-C` like the letter; external numbers as stored.
 */
export function displayVorgangsnummer(value) {
  const text = String(value || '');
  if (text.length !== 10) return text;
  let sum = 0;
  for (let i = 0; i < 10; i += 1) {
    const v = GENERATED_ALPHABET.indexOf(text[i]);
    if (v < 0) return text;
    sum = (sum + (i + 1) * v) % 29;
  }
  return sum === 0 ? `${text.slice(0, 3)}-${text.slice(3, 6)}-${text.slice(6, 9)}-${text.slice(9)}` : text;
}

/** "Familienname, Vornamen"; null once the personal data is erased. */
export function personName(app) {
  if (!app.familyName && !app.givenNames) return null;
  return [app.familyName, app.givenNames].filter(Boolean).join(', ');
}

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
// Control and text-direction characters, which the server refuses in names.
const BAD_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** The problems of these filters the server would refuse, as {name: message}; checked before asking. */
function validate(filters) {
  const problems = {};
  for (const name of ['createdFrom', 'createdTo']) {
    const value = filters[name];
    if (value && !isCalendarDay(value)) problems[name] = t('badDate');
  }
  if (!problems.createdFrom && !problems.createdTo && filters.createdFrom && filters.createdTo && filters.createdTo < filters.createdFrom) {
    problems.createdTo = t('dateOrder');
  }
  if (filters.name && filters.name.length > 200) problems.name = t('nameTooLong');
  else if (filters.name && BAD_CHARACTERS.test(filters.name)) problems.name = t('badCharacters');
  if (filters.state && !STATES.includes(filters.state)) problems.state = t('badState');
  if (filters.contactRequired && !['true', 'false'].includes(filters.contactRequired)) problems.contactRequired = t('badParameter');
  return problems;
}

/** A message for a 400 the server sent about one field. */
function fieldMessage(error) {
  switch (error.code) {
    case 'invalid_date': return t('badDate');
    case 'too_long': return t('nameTooLong');
    case 'invalid_characters': return t('badCharacters');
    default: return error.field === 'state' ? t('badState') : t('badParameter');
  }
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
    name: field({ label: t('name'), name: 'name', hint: t('nameHint'), value: filters.name, attrs: { spellcheck: 'false', maxlength: '200' } }),
    state: field({ label: t('state'), name: 'state', value: filters.state, options: [['', t('anyState')], ...STATES.map((s) => [s, ts(`state.${s}`)])] }),
    createdFrom: field({ label: t('createdFrom'), name: 'createdFrom', type: 'date', value: filters.createdFrom, attrs: { class: 'short' } }),
    createdTo: field({ label: t('createdTo'), name: 'createdTo', type: 'date', value: filters.createdTo, attrs: { class: 'short' } }),
    contactRequired: field({ label: t('contactRequired'), name: 'contactRequired', value: filters.contactRequired, options: [['', t('contactAny')], ['true', t('contactYes')], ['false', t('contactNo')]] }),
  };
  const summary = h('div', { class: 'error-summary', tabindex: '-1', hidden: true });
  const form = h('form', { class: 'search-form', role: 'search', 'aria-label': t('filters'), novalidate: true },
    h('div', { class: 'search-grid' }, fields.vorgangsnummer.wrap, fields.name.wrap, fields.state.wrap, fields.contactRequired.wrap),
    h('div', { class: 'inline-fields' }, fields.createdFrom.wrap, fields.createdTo.wrap),
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
      results.append(notice('error', h('p', {}, e.status ? t('error.unexpected', { code: e.code }) : t('error.network'))));
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
