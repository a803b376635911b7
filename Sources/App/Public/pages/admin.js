// Verwaltung (supervisors): the frame with one tab per area – user accounts, sites, boxes, SMS
// texts – each loaded on demand from pages/admin-<tab>.js, and what those tabs share: the words
// for the administration's error codes, busy buttons, hidden button text and plain tables.

import { h } from '../dom.js';
import { makeT, errorText } from '../i18n.js';

export const css = true;

const TABS = ['users', 'sites', 'boxes', 'sms'];

const t = makeT({
  de: {
    title: 'Verwaltung',
    tabs: 'Bereiche der Verwaltung',
    'tab.users': 'Benutzerkonten',
    'tab.sites': 'Standorte',
    'tab.boxes': 'Boxen und Fächer',
    'tab.sms': 'SMS-Texte',
    working: 'Wird ausgeführt …',
  },
  en: {
    title: 'Administration',
    tabs: 'Areas of the administration',
    'tab.users': 'User accounts',
    'tab.sites': 'Sites',
    'tab.boxes': 'Boxes and compartments',
    'tab.sms': 'SMS texts',
    working: 'Working …',
  },
});

/** What the administration's error codes mean, in words for the person at the form (the common ones are shared). */
export const CODES = {
  de: {
    invalid_field: 'Dieser Wert ist nicht gültig.',
    invalid_json: 'Die Eingabe konnte nicht gelesen werden.',
    invalid_username: 'Verwenden Sie 2 bis 63 Zeichen: a–z, 0–9, Punkt, Unterstrich und Bindestrich, am Anfang ein Buchstabe oder eine Ziffer.',
    username_taken: 'Diesen Benutzernamen gibt es schon.',
    password_too_short: 'Das Passwort muss mindestens 12 Zeichen haben.',
    password_too_long: 'Das Passwort ist zu lang (höchstens 1024 Byte).',
    cannot_disable_self: 'Ihr eigenes Konto können Sie nicht deaktivieren.',
    invalid_badge: 'Eine Ausweisnummer hat 4 bis 64 Zeichen: Buchstaben ohne Umlaute, Ziffern und Satzzeichen, keine Leerzeichen.',
    badge_in_use: 'Dieser Dienstausweis ist schon für eine andere Person hinterlegt.',
    invalid_time_zone: 'Bitte geben Sie eine Zeitzone wie Europe/Berlin an.',
    out_of_range: 'Der Wert liegt außerhalb des erlaubten Bereichs.',
    site_name_taken: 'Einen Standort mit diesem Namen gibt es schon.',
    invalid_weekday: 'Unbekannter Wochentag.',
    invalid_time: 'Bitte als Uhrzeit im Format HH:MM angeben, zum Beispiel 07:30.',
    closes_before_opens: 'Das Ende muss nach dem Beginn liegen.',
    too_many_intervals: 'Höchstens 4 Zeiträume an einem Wochentag.',
    overlapping_intervals: 'Dieser Zeitraum überschneidet sich mit einem anderen am selben Tag.',
    not_applicable: 'An einem geschlossenen Tag gibt es keine Zeiten.',
    unknown_site: 'Diesen Standort gibt es nicht.',
    box_name_taken: 'Eine Box mit diesem Namen gibt es schon.',
    invalid_languages: 'Bitte geben Sie 1 bis 10 Sprachen an.',
    invalid_language: 'Bitte Sprachcodes aus zwei Kleinbuchstaben verwenden, zum Beispiel de oder tr.',
    duplicate_language: 'Jede Sprache nur einmal.',
    too_many_compartments: 'Höchstens 2000 Fächer auf einmal.',
    wrong_count: 'Bitte für jede Reihe einen Wert angeben.',
    row_heights_not_descending: 'Jede Reihe muss tiefer liegen als die darüber (oberste Reihe zuerst).',
    conflicting_fields: 'Bitte entweder eine Größe für alle Reihen oder eine je Reihe angeben.',
    compartment_numbers_taken: 'Die Box hat schon Fächer mit einigen dieser Nummern (die erste: {firstTakenNumber}).',
    compartment_positions_taken: 'An einigen dieser Positionen hat die Box schon Fächer.',
    unknown_placeholder: 'Unbekannter Platzhalter: es gibt nur {pin}, {site} und {deadline} (keine persönlichen Daten in einer SMS).',
    invalid_template: 'Eine geschweifte Klammer hat kein Gegenstück. Platzhalter schreiben Sie {pin}, {site} oder {deadline}.',
    missing_placeholder: 'Der Text muss diese Platzhalter enthalten: {required}.',
    over_segment_budget: 'Mit den längsten Werten braucht der Text {segments} SMS-Teile; erlaubt sind {segmentBudget}.',
  },
  en: {
    invalid_field: 'This value is not valid.',
    invalid_json: 'The input could not be read.',
    invalid_username: 'Use 2 to 63 characters: a–z, 0–9, dot, underscore and hyphen, starting with a letter or digit.',
    username_taken: 'This username is taken.',
    password_too_short: 'The password must have at least 12 characters.',
    password_too_long: 'The password is too long (at most 1024 bytes).',
    cannot_disable_self: 'You cannot disable your own account.',
    invalid_badge: 'A badge number has 4 to 64 characters: letters without accents, digits and punctuation, no spaces.',
    badge_in_use: 'This badge is registered for another person.',
    invalid_time_zone: 'Please give a time zone such as Europe/Berlin.',
    out_of_range: 'The value is outside the allowed range.',
    site_name_taken: 'A site with this name exists.',
    invalid_weekday: 'Unknown weekday.',
    invalid_time: 'Please give a time as HH:MM, for example 07:30.',
    closes_before_opens: 'The end must be after the start.',
    too_many_intervals: 'At most 4 periods on one weekday.',
    overlapping_intervals: 'This period overlaps another one on the same day.',
    not_applicable: 'A closed day has no hours.',
    unknown_site: 'There is no such site.',
    box_name_taken: 'A box with this name exists.',
    invalid_languages: 'Please give 1 to 10 languages.',
    invalid_language: 'Please use language codes of two lower-case letters, for example de or tr.',
    duplicate_language: 'Each language only once.',
    too_many_compartments: 'At most 2000 compartments at once.',
    wrong_count: 'Please give one value for each row.',
    row_heights_not_descending: 'Each row must be lower than the one above (top row first).',
    conflicting_fields: 'Please give either one size for all rows or one per row.',
    compartment_numbers_taken: 'The box already has compartments with some of these numbers (the first: {firstTakenNumber}).',
    compartment_positions_taken: 'The box already has compartments at some of these positions.',
    unknown_placeholder: 'Unknown placeholder: there are only {pin}, {site} and {deadline} (no personal data in an SMS).',
    invalid_template: 'A curly brace has no partner. Write placeholders as {pin}, {site} or {deadline}.',
    missing_placeholder: 'The text must contain these placeholders: {required}.',
    over_segment_budget: 'With the longest values the text needs {segments} SMS parts; {segmentBudget} are allowed.',
  },
};

/** The sentence for an error (an ApiError or a code) in the administration's words; `vars` fill {segments}, … */
export function adminText(error, vars) {
  return errorText(error, { codes: CODES, vars });
}

/** Runs `fn` with `button` disabled (no double submit), restoring it afterwards. */
export async function busy(button, fn) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try { return await fn(); } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/** Text a screen reader reads with a button whose visible text is short: "Entfernen" + " (Montag)". */
export function hidden(text) {
  return h('span', { class: 'visually-hidden' }, text);
}

/** A simple data table: caption, column headers, rows of cells (strings or nodes). */
export function table(caption, headers, rows, className) {
  return h('div', { class: 'table-wrap' }, h('table', { class: className },
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, headers.map((text) => h('th', { scope: 'col' }, text)))),
    h('tbody', {}, rows)));
}

export async function render(ctx) {
  const tab = TABS.includes(ctx.params.tab) ? ctx.params.tab : 'users';
  ctx.setTitle(`${t(`tab.${tab}`)} – ${t('title')}`);
  const panel = h('div', { class: 'admin-panel' }, h('p', { class: 'muted' }, t('common.loading')));
  ctx.main.append(
    h('h1', {}, t('title')),
    h('nav', { class: 'admin-tabs', 'aria-label': t('tabs') }, h('ul', {},
      TABS.map((name) => h('li', {}, h('a', { href: `#/admin/${name}`, 'aria-current': name === tab ? 'page' : undefined }, t(`tab.${name}`)))))),
    panel);
  const module = await import(`./admin-${tab}.js`);
  panel.replaceChildren();
  await module.render(ctx, panel);
}
