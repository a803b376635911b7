// Datenschutz (supervisors and the data-protection officer): the receipts of the erasure passes – when,
// under which rules, how many applications and rows per table, where in the audit log – and the audit
// log itself with its filters, each event in words, and the head of the authority's hash chain to
// write down elsewhere. Filters and pages live in the hash (#/privacy?action=…&before=…), so the back
// button and bookmarks work. Reading the log is itself logged by the server (audit.read).

import { h, replace, field, formProblems, statusArea } from '../dom.js';
import { api, ApiError } from '../api.js';
import { makeT, lang, fmtNumber } from '../i18n.js';

export const css = true;

const ERASURE_PAGE = 20;
const AUDIT_PAGE = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
/** The filters of GET /api/v1/audit this page offers, as they stand in the hash. */
const FILTERS = ['action', 'entityType', 'entityId', 'who', 'from', 'to'];

const STRINGS = {
  de: {
    title: 'Datenschutz',
    intro: 'Was der Server nach den Löschfristen gelöscht hat, und wer wann was getan oder angesehen hat. Nur für die Leitung und die Datenschutzbeauftragten; jedes Lesen des Protokolls wird selbst protokolliert.',
    // Erasure passes
    erasures: 'Löschläufe',
    erasuresIntro: 'Der Server löscht personenbezogene Daten nach festen Fristen: Namen, Geburtsdatum, Mobilnummer, Dokumentnummern und SMS eines Antrags nach Abholung oder Stornierung, spätestens nach der Höchstfrist ab Erfassung; IP-Adressen im Protokoll nach ihrer Frist. Jeder Lauf hinterlässt einen Beleg.',
    noErasures: 'Bisher gab es keinen Löschlauf. Der Server prüft jede Minute, ob einer fällig ist: Der erste beginnt etwa eine Minute nach dem Start des Servers, danach im eingestellten Abstand (ERASURE_INTERVAL_SECONDS, üblich: stündlich). Auf dem Server startet „pickupbox erase“ sofort einen Lauf; „pickupbox erase --dry-run“ zeigt, was fällig wäre.',
    currentPolicy: 'Regeln des neuesten Laufs',
    'policy.afterClose': 'Frist nach Abholung oder Stornierung',
    'policy.max': 'Höchstfrist ab Erfassung',
    'policy.ip': 'Frist für IP-Adressen im Protokoll',
    'policy.truncate': 'IP-Adressen nur gekürzt (/24, /48)',
    day: '{n} Tag',
    days: '{n} Tage',
    erasuresCaption: 'Löschläufe, die neuesten zuerst – {from} bis {to} von {total}',
    'col.pass': 'Lauf',
    'col.status': 'Ergebnis',
    'col.applications': 'Anträge gelöscht',
    'col.rows': 'Gelöschte Zeilen je Tabelle',
    'col.policy': 'Regeln',
    'col.chain': 'Im Protokoll',
    until: 'bis {time}',
    'status.finished': 'abgeschlossen',
    'status.running': 'läuft',
    'status.interrupted': 'abgebrochen – der nächste Lauf setzt fort',
    nothingDue: 'nichts fällig',
    installation: 'für alle Behörden:',
    policyRow: '{close} nach Abschluss, höchstens {max}; IP-Adressen {ip}',
    truncated: ', gekürzt',
    erasedEvents: 'Löschungen: Nr. {first} bis {last}',
    erasedEvent: 'Löschung: Nr. {first}',
    receipt: 'Beleg Nr. {id} im Protokoll',
    'table.application': 'Anträge (Personendaten)',
    'table.document': 'Dokumentnummern',
    'table.delivery_item': 'Lieferpositionen',
    'table.sms_message': 'SMS (Nummer, Text)',
    'table.staff_approval': 'Vier-Augen-Anfragen (Nummer)',
    'table.audit_event': 'IP-Adressen im Protokoll',
    'table.idempotency_key': 'gespeicherte Antworten',
    'table.login_throttle': 'Zähler fehlgeschlagener Anmeldungen',
    'table.pickup_attempt': 'Abholversuche an der Box',
    'table.pickup_session': 'Abholvorgänge an der Box',
    'table.session': 'abgelaufene Sitzungen',
    pages: 'Seiten',
    newestPasses: 'Zu den neuesten Löschläufen',
    pageOf: 'Seite {page} von {pages}',
    // Audit log
    audit: 'Protokoll',
    auditIntro: 'Jede Änderung und jedes Ansehen personenbezogener Daten ist ein Eintrag: wer, was, wann, mit der Anfrage-ID. Einträge nennen nur IDs und Codes, nie Namen oder Nummern.',
    chain: 'Prüfkette',
    chainSealed: 'Versiegelt bis Eintrag {seq} der Kette, zuletzt am {time}.',
    chainHead: 'Kopf-Hash',
    chainFull: 'Ganzen Hash zeigen',
    copy: 'Hash kopieren',
    copied: 'Der Kopf-Hash ist in der Zwischenablage.',
    copyFailed: 'Kopieren ging nicht. Bitte markieren Sie den ganzen Hash und kopieren Sie ihn von Hand.',
    chainHint: 'Schreiben Sie den Kopf-Hash ab und bewahren Sie ihn außerhalb des Servers auf (z. B. in der Akte): Wird später ein Eintrag geändert oder entfernt, passt er nicht mehr. „pickupbox audit verify“ prüft auf dem Server die ganze Kette, „pickupbox audit anchor“ gibt diesen Kopf aus.',
    noChain: 'Noch ist kein Eintrag versiegelt. Neue Einträge werden etwa eine Sekunde nach dem Schreiben in die Kette aufgenommen.',
    filters: 'Einträge filtern',
    'f.action': 'Aktion',
    'f.entityType': 'Art des Objekts',
    'f.entityId': 'ID des Objekts',
    'f.entityIdHint': 'Zum Beispiel die ID eines Antrags (36 Zeichen). Auf der Seite eines Antrags führt „Protokoll zu diesem Antrag“ hierher.',
    'f.who': 'Wer',
    'f.from': 'Von (Tag)',
    'f.to': 'Bis (Tag)',
    all: 'alle',
    everyone: 'alle',
    'who.system': 'System (Server)',
    'who.users': 'Beschäftigte',
    'who.allUsers': 'alle Beschäftigten',
    'who.boxes': 'Boxen',
    'who.allBoxes': 'alle Boxen',
    apply: 'Protokoll filtern',
    reset: 'Alle Filter entfernen',
    badId: 'Bitte geben Sie eine vollständige ID ein: 36 Zeichen wie 3f2a9c21-0b4d-4e8a-9f1e-2c7d5b6a8e90.',
    badDay: 'Bitte geben Sie einen Tag an, zum Beispiel 31.01.2026.',
    toBeforeFrom: '„Bis“ liegt vor „Von“.',
    auditCaption: 'Protokolleinträge, die neuesten zuerst',
    auditCaptionFiltered: 'Protokolleinträge mit den gewählten Filtern, die neuesten zuerst',
    noEvents: 'Kein Eintrag passt zu diesen Filtern.',
    'col.id': 'Nr.',
    'col.at': 'Zeit',
    'col.who': 'Wer',
    'col.action': 'Aktion',
    'col.entity': 'Objekt',
    'col.request': 'Anfrage',
    notSealed: 'noch nicht versiegelt',
    chainSeq: 'Kette {seq}',
    address: 'Adresse {address}',
    older: 'Ältere Einträge',
    newest: 'Zu den neuesten Einträgen',
    fromNumber: 'Einträge ab Nr. {id} abwärts',
    unknownUser: 'Konto {id}',
    unknownBox: 'Box {id}',
    'actor.system': 'System',
    'entity.application': 'Antrag',
    'entity.app_user': 'Konto',
    'entity.user': 'Konto',
    'entity.authority': 'Behörde',
    'entity.audit_event': 'Protokoll',
    'entity.box': 'Box',
    'entity.compartment': 'Fach',
    'entity.site': 'Standort',
    'entity.sms_template': 'SMS-Text',
    'entity.delivery': 'Lieferung',
    'entity.assignment': 'Fachzuweisung',
    'entity.erasure_pass': 'Löschlauf',
    'a.application.registered': 'Antrag erfasst',
    'a.application.updated': 'Antrag geändert',
    'a.application.cancelled': 'Antrag storniert',
    'a.application.delivered': 'Dokument geliefert',
    'a.application.assigned': 'Fach zugewiesen',
    'a.application.assignment_released': 'Zuweisung aufgehoben',
    'a.application.loading_authorised': 'Beladen an der Box zugelassen',
    'a.application.loaded': 'Fach beladen',
    'a.application.pin_reissued': 'Neue PIN verschickt',
    'a.application.sms_failed': 'SMS fehlgeschlagen',
    'a.application.deadline_passed': 'Abholfrist abgelaufen',
    'a.application.collected': 'An der Box abgeholt',
    'a.application.handed_over': 'Dokument übergeben',
    'a.application.retrieved': 'Aus der Box entnommen',
    'a.application.mobile_number_change_requested': 'Neue Mobilnummer angefragt',
    'a.application.mobile_number_change_approved': 'Neue Mobilnummer freigegeben',
    'a.application.mobile_number_change_rejected': 'Neue Mobilnummer abgelehnt',
    'a.application.pin_reissue_requested': 'Neue PIN angefragt',
    'a.application.pin_reissue_approved': 'Neue PIN freigegeben',
    'a.application.pin_reissue_rejected': 'Neue PIN abgelehnt',
    'a.application.approval_superseded': 'Anfrage auf Freigabe ersetzt',
    'a.application.read': 'Antrag angesehen',
    'a.application.letter_read': 'Brief abgerufen',
    'a.application.listed': 'Anträge gesucht',
    'a.application.exported': 'Auskunft exportiert (Art. 15 DSGVO)',
    'a.application.personal_data_erased': 'Personenbezogene Daten gelöscht',
    'a.privacy.erasure_receipt': 'Beleg eines Löschlaufs',
    'a.audit.read': 'Protokoll gelesen',
    'a.auth.login': 'Angemeldet',
    'a.auth.login_failed': 'Anmeldung fehlgeschlagen',
    'a.auth.logout': 'Abgemeldet',
    'a.authority.created': 'Behörde angelegt',
    'a.demo.seeded': 'Demodaten angelegt',
    'a.user.created': 'Konto angelegt',
    'a.user.disabled': 'Konto deaktiviert',
    'a.user.badge_set': 'Dienstausweis hinterlegt',
    'a.user.badge_removed': 'Dienstausweis entfernt',
    'a.box.created': 'Box angelegt',
    'a.box.compartments_created': 'Fächer angelegt',
    'a.box.token_issued': 'Token der Box ausgestellt',
    'a.box.token_rotated': 'Token der Box erneuert',
    'a.box.fault': 'Störung der Box gemeldet',
    'a.compartment.blocked': 'Fach gesperrt',
    'a.compartment.unblocked': 'Fach entsperrt',
    'a.assignment.pickup_verified': 'Abholung an der Box geprüft',
    'a.assignment.loaded_refused_four_eyes': 'Beladen abgelehnt (Vier-Augen-Prinzip)',
    'a.delivery.recorded': 'Lieferung erfasst',
    'a.delivery.items_added': 'Lieferpositionen ergänzt',
    'a.site.created': 'Standort angelegt',
    'a.site.hours_replaced': 'Öffnungszeiten geändert',
    'a.site.exception_added': 'Abweichender Tag eingetragen',
    'a.site.exception_changed': 'Abweichender Tag geändert',
    'a.site.exception_removed': 'Abweichender Tag entfernt',
    'a.site.pickup_settings_changed': 'Abholregeln des Standorts geändert',
    'a.sms_template.saved': 'SMS-Text gespeichert',
    'a.sms_template.deleted': 'SMS-Text zurückgesetzt',
  },
  en: {
    title: 'Privacy',
    intro: 'What the server erased under the retention periods, and who did or looked at what, when. For supervisors and the data-protection officer only; every reading of the log is logged itself.',
    erasures: 'Erasure passes',
    erasuresIntro: 'The server erases personal data after fixed periods: an application’s names, date of birth, mobile number, document numbers and SMS after collection or cancellation, at the latest after the maximum period from registration; client addresses in the log after their period. Every pass leaves a receipt.',
    noErasures: 'No erasure pass has run yet. The server checks every minute whether one is due: the first starts about a minute after the server started, then at the configured interval (ERASURE_INTERVAL_SECONDS, usually hourly). On the server, “pickupbox erase” runs a pass at once; “pickupbox erase --dry-run” shows what is due.',
    currentPolicy: 'Rules of the newest pass',
    'policy.afterClose': 'Period after collection or cancellation',
    'policy.max': 'Maximum period from registration',
    'policy.ip': 'Period for client addresses in the log',
    'policy.truncate': 'Client addresses truncated only (/24, /48)',
    day: '{n} day',
    days: '{n} days',
    erasuresCaption: 'Erasure passes, newest first – {from} to {to} of {total}',
    'col.pass': 'Pass',
    'col.status': 'Outcome',
    'col.applications': 'Applications erased',
    'col.rows': 'Rows erased per table',
    'col.policy': 'Rules',
    'col.chain': 'In the log',
    until: 'until {time}',
    'status.finished': 'finished',
    'status.running': 'running',
    'status.interrupted': 'interrupted – the next pass goes on',
    nothingDue: 'nothing due',
    installation: 'for all authorities:',
    policyRow: '{close} after closing, {max} at most; client addresses {ip}',
    truncated: ', truncated',
    erasedEvents: 'Erasures: no. {first} to {last}',
    erasedEvent: 'Erasure: no. {first}',
    receipt: 'Receipt no. {id} in the log',
    'table.application': 'applications (personal data)',
    'table.document': 'document numbers',
    'table.delivery_item': 'delivery items',
    'table.sms_message': 'SMS (number, text)',
    'table.staff_approval': 'four-eyes requests (number)',
    'table.audit_event': 'client addresses in the log',
    'table.idempotency_key': 'stored answers',
    'table.login_throttle': 'failed-login counters',
    'table.pickup_attempt': 'pickup attempts at the box',
    'table.pickup_session': 'pickups in progress at the box',
    'table.session': 'expired sessions',
    pages: 'Pages',
    newestPasses: 'Go to the newest erasure passes',
    pageOf: 'Page {page} of {pages}',
    audit: 'Audit log',
    auditIntro: 'Every change and every look at personal data is an entry: who, what, when, with the request id. Entries name ids and codes only, never names or numbers.',
    chain: 'Hash chain',
    chainSealed: 'Sealed up to entry {seq} of the chain, last at {time}.',
    chainHead: 'Head hash',
    chainFull: 'Show the whole hash',
    copy: 'Copy the hash',
    copied: 'The head hash is on the clipboard.',
    copyFailed: 'Copying did not work. Please select the whole hash and copy it by hand.',
    chainHint: 'Write the head hash down and keep it outside the server (e.g. in the file): if an entry is later changed or removed, it no longer matches. “pickupbox audit verify” checks the whole chain on the server, “pickupbox audit anchor” prints this head.',
    noChain: 'No entry is sealed yet. New entries join the chain about a second after they were written.',
    filters: 'Filter entries',
    'f.action': 'Action',
    'f.entityType': 'Kind of object',
    'f.entityId': 'Id of the object',
    'f.entityIdHint': 'For example an application’s id (36 characters). On an application’s page, “Audit log of this application” leads here.',
    'f.who': 'Who',
    'f.from': 'From (day)',
    'f.to': 'To (day)',
    all: 'all',
    everyone: 'everyone',
    'who.system': 'System (server)',
    'who.users': 'Staff',
    'who.allUsers': 'all staff',
    'who.boxes': 'Boxes',
    'who.allBoxes': 'all boxes',
    apply: 'Filter the log',
    reset: 'Remove all filters',
    badId: 'Please enter a whole id: 36 characters like 3f2a9c21-0b4d-4e8a-9f1e-2c7d5b6a8e90.',
    badDay: 'Please give a day, for example 31/01/2026.',
    toBeforeFrom: '“To” is before “From”.',
    auditCaption: 'Audit log entries, newest first',
    auditCaptionFiltered: 'Audit log entries matching the filters, newest first',
    noEvents: 'No entry matches these filters.',
    'col.id': 'No.',
    'col.at': 'Time',
    'col.who': 'Who',
    'col.action': 'Action',
    'col.entity': 'Object',
    'col.request': 'Request',
    notSealed: 'not sealed yet',
    chainSeq: 'chain {seq}',
    address: 'address {address}',
    older: 'Older entries',
    newest: 'Go to the newest entries',
    fromNumber: 'Entries from no. {id} down',
    unknownUser: 'Account {id}',
    unknownBox: 'Box {id}',
    'actor.system': 'System',
    'entity.application': 'Application',
    'entity.app_user': 'Account',
    'entity.user': 'Account',
    'entity.authority': 'Authority',
    'entity.audit_event': 'Audit log',
    'entity.box': 'Box',
    'entity.compartment': 'Compartment',
    'entity.site': 'Site',
    'entity.sms_template': 'SMS text',
    'entity.delivery': 'Delivery',
    'entity.assignment': 'Compartment assignment',
    'entity.erasure_pass': 'Erasure pass',
    'a.application.registered': 'Application registered',
    'a.application.updated': 'Application changed',
    'a.application.cancelled': 'Application cancelled',
    'a.application.delivered': 'Document delivered',
    'a.application.assigned': 'Compartment assigned',
    'a.application.assignment_released': 'Assignment cancelled',
    'a.application.loading_authorised': 'Loading at the box allowed',
    'a.application.loaded': 'Compartment loaded',
    'a.application.pin_reissued': 'New PIN sent',
    'a.application.sms_failed': 'SMS failed',
    'a.application.deadline_passed': 'Pickup deadline passed',
    'a.application.collected': 'Collected at the box',
    'a.application.handed_over': 'Document handed over',
    'a.application.retrieved': 'Taken out of the box',
    'a.application.mobile_number_change_requested': 'New mobile number requested',
    'a.application.mobile_number_change_approved': 'New mobile number approved',
    'a.application.mobile_number_change_rejected': 'New mobile number rejected',
    'a.application.pin_reissue_requested': 'New PIN requested',
    'a.application.pin_reissue_approved': 'New PIN approved',
    'a.application.pin_reissue_rejected': 'New PIN rejected',
    'a.application.approval_superseded': 'Request for approval superseded',
    'a.application.read': 'Application viewed',
    'a.application.letter_read': 'Letter fetched',
    'a.application.listed': 'Applications searched',
    'a.application.exported': 'Data exported (GDPR Art. 15)',
    'a.application.personal_data_erased': 'Personal data erased',
    'a.privacy.erasure_receipt': 'Receipt of an erasure pass',
    'a.audit.read': 'Audit log read',
    'a.auth.login': 'Logged in',
    'a.auth.login_failed': 'Login failed',
    'a.auth.logout': 'Logged out',
    'a.authority.created': 'Authority created',
    'a.demo.seeded': 'Demo data created',
    'a.user.created': 'Account created',
    'a.user.disabled': 'Account disabled',
    'a.user.badge_set': 'Staff badge registered',
    'a.user.badge_removed': 'Staff badge removed',
    'a.box.created': 'Box created',
    'a.box.compartments_created': 'Compartments created',
    'a.box.token_issued': 'Box token issued',
    'a.box.token_rotated': 'Box token renewed',
    'a.box.fault': 'Box fault reported',
    'a.compartment.blocked': 'Compartment blocked',
    'a.compartment.unblocked': 'Compartment unblocked',
    'a.assignment.pickup_verified': 'Pickup at the box verified',
    'a.assignment.loaded_refused_four_eyes': 'Loading refused (four eyes)',
    'a.delivery.recorded': 'Delivery recorded',
    'a.delivery.items_added': 'Delivery items added',
    'a.site.created': 'Site created',
    'a.site.hours_replaced': 'Opening hours changed',
    'a.site.exception_added': 'Exceptional day added',
    'a.site.exception_changed': 'Exceptional day changed',
    'a.site.exception_removed': 'Exceptional day removed',
    'a.site.pickup_settings_changed': 'Site pickup rules changed',
    'a.sms_template.saved': 'SMS text saved',
    'a.sms_template.deleted': 'SMS text reset',
  },
};
const t = makeT(STRINGS);

/** Whether the page has words for `key` (actions and object kinds the server adds later have none). */
const has = (key) => Object.prototype.hasOwnProperty.call(STRINGS.de, key);
const shortId = (id) => String(id).slice(0, 8).toLowerCase();
const mono = (text, extra) => h('span', { class: ['mono', extra] }, text);
/** An action in words, or its machine name when the page does not know it. */
const actionName = (action) => (has(`a.${action}`) ? t(`a.${action}`) : action);

/**
 * A point in time to the second (audit entries often share a minute), in Europe/Berlin; only the time
 * when it is the same day as `sameDayAs`. Could move to i18n.js.
 */
function fmtSeconds(value, sameDayAs) {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  const locale = lang() === 'de' ? 'de-DE' : 'en-GB';
  const day = (x) => x.toLocaleDateString(locale, { timeZone: 'Europe/Berlin' });
  const timeOnly = sameDayAs && day(new Date(sameDayAs)) === day(d);
  return d.toLocaleString(locale, { ...(timeOnly ? {} : { day: '2-digit', month: '2-digit', year: 'numeric' }), hour: '2-digit', minute: '2-digit', second: '2-digit', timeZone: 'Europe/Berlin' });
}

/** #/privacy with the given query (empty values left out). */
function privacyHash(values) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return `#/privacy${qs ? `?${qs}` : ''}`;
}

export async function render(ctx) {
  ctx.setTitle(t('title'));
  const query = ctx.query;
  const filters = Object.fromEntries(FILTERS.map((k) => [k, query.get(k) || '']));
  const before = /^\d{1,18}$/.test(query.get('before') || '') ? query.get('before') : '';
  const erasureOffset = Math.max(0, Number.parseInt(query.get('erasures') || '0', 10) || 0);
  const state = { filters, before, erasureOffset };

  const [erasures, users, boxes] = await Promise.all([
    api('GET', '/api/v1/privacy/erasures', { query: { limit: ERASURE_PAGE, offset: erasureOffset }, signal: ctx.signal }),
    api('GET', '/api/v1/users', { signal: ctx.signal }).catch(quiet),
    api('GET', '/api/v1/boxes', { signal: ctx.signal }).catch(quiet),
  ]);
  const names = {
    user: new Map((users || []).map((u) => [u.id.toLowerCase(), u.displayName])),
    box: new Map((boxes || []).map((b) => [b.id.toLowerCase(), b.name])),
  };

  const chainArea = h('div', {});
  const auditArea = h('div', { class: 'privacy-audit-results' });
  const form = filterForm(state, users || [], boxes || []);
  ctx.main.append(
    h('h1', {}, t('title')),
    h('p', {}, t('intro')),
    h('section', { 'aria-labelledby': 'privacy-erasures' },
      h('h2', { id: 'privacy-erasures' }, t('erasures')),
      h('p', {}, t('erasuresIntro')),
      erasureSection(erasures, state)),
    h('section', { 'aria-labelledby': 'privacy-audit' },
      h('h2', { id: 'privacy-audit' }, t('audit')),
      h('p', {}, t('auditIntro')),
      chainArea,
      form.el,
      auditArea));

  const problems = form.check();
  if (problems.length) { form.show(problems); return; }
  let page;
  try {
    page = await api('GET', '/api/v1/audit', { query: { ...auditQuery(filters), before: before || undefined, limit: AUDIT_PAGE }, signal: ctx.signal });
  } catch (e) {
    if (e?.name === 'AbortError' || (e instanceof ApiError && e.status === 401)) throw e;
    form.fromApi(e);
    return;
  }
  replace(chainArea, chainState(page.chain));
  replace(auditArea, auditTable(page, state, names));
  // After a filter or a page of the log, keyboard and screen-reader users continue at the results.
  if (FILTERS.some((k) => filters[k]) || before) auditArea.querySelector('.privacy-results-heading')?.focus();
}

function quiet(e) {
  if (e?.name === 'AbortError' || (e instanceof ApiError && e.status === 401)) throw e;
  return null;
}

// --- erasure passes ---------------------------------------------------------------------------------

function erasureSection(page, state) {
  if (!page.total) return h('div', { class: 'notice' }, h('p', {}, t('noErasures')));
  const items = page.items;
  // A page behind the last one (an old bookmark): back to the newest passes.
  if (!items.length) return h('p', {}, h('a', { href: privacyHash({ ...state.filters, before: state.before }) }, t('newestPasses')));
  const newest = state.erasureOffset === 0 ? items[0] : null;
  return [
    newest ? policySummary(newest.policy) : null,
    h('div', { class: 'table-wrap' }, h('table', { class: 'privacy-erasures' },
      h('caption', {}, t('erasuresCaption', { from: fmtNumber(page.offset + 1), to: fmtNumber(page.offset + items.length), total: fmtNumber(page.total) })),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('col.pass')),
        h('th', { scope: 'col' }, t('col.status')),
        h('th', { scope: 'col', class: 'num' }, t('col.applications')),
        h('th', { scope: 'col' }, t('col.rows')),
        h('th', { scope: 'col' }, t('col.policy')),
        h('th', { scope: 'col' }, t('col.chain')))),
      h('tbody', {}, items.map((r) => h('tr', {},
        h('th', { scope: 'row' }, h('time', { datetime: r.startedAt }, fmtSeconds(r.startedAt)),
          r.finishedAt ? h('span', { class: 'privacy-sub' }, t('until', { time: fmtSeconds(r.finishedAt, r.startedAt) })) : null),
        h('td', {}, h('span', { class: `badge privacy-status-${r.status}` }, t(`status.${r.status}`))),
        h('td', { class: 'num' }, fmtNumber(r.applications)),
        h('td', {}, rowCounts(r)),
        h('td', {}, policyText(r.policy)),
        h('td', {}, chainPlace(r))))))),
    erasurePages(page, state),
  ];
}

function policySummary(p) {
  return [h('h3', {}, t('currentPolicy')), h('dl', { class: 'summary privacy-policy' },
    h('dt', {}, t('policy.afterClose')), h('dd', {}, days(p.retentionDaysAfterClose)),
    h('dt', {}, t('policy.max')), h('dd', {}, days(p.retentionDaysMax)),
    h('dt', {}, t('policy.ip')), h('dd', {}, days(p.auditIpDays)),
    h('dt', {}, t('policy.truncate')), h('dd', {}, t(p.auditIpTruncate ? 'common.yes' : 'common.no')))];
}

const days = (n) => t(n === 1 ? 'day' : 'days', { n: fmtNumber(n) });
const policyText = (p) => t('policyRow', { close: days(p.retentionDaysAfterClose), max: days(p.retentionDaysMax), ip: days(p.auditIpDays) })
  + (p.auditIpTruncate ? t('truncated') : '');

/** "8 Anträge (Personendaten)" a line per table, the installation-wide rows (no authority's) apart. */
function rowCounts(r) {
  const list = (counts) => h('ul', { class: 'privacy-counts' }, Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([table, n]) =>
    h('li', {}, h('span', { class: 'privacy-count' }, fmtNumber(n)), ' ', has(`table.${table}`) ? t(`table.${table}`) : mono(table))));
  const own = Object.keys(r.rows || {}).length ? list(r.rows) : null;
  const all = Object.keys(r.installationRows || {}).length ? [h('p', { class: 'privacy-sub' }, t('installation')), list(r.installationRows)] : null;
  return own || all ? [own, all] : h('span', { class: 'muted' }, t('nothingDue'));
}

/** The pass's events in the authority's log: the erasures it wrote and its receipt, linked into the log below. */
function chainPlace(r) {
  const range = r.auditEvents;
  return [
    range ? h('span', { class: 'privacy-sub-line' }, t(range.firstId === range.lastId ? 'erasedEvent' : 'erasedEvents', { first: range.firstId, last: range.lastId })) : null,
    r.receiptEventId ? h('a', { href: privacyHash({ before: r.receiptEventId + 1 }) }, t('receipt', { id: r.receiptEventId })) : null,
    !range && !r.receiptEventId ? h('span', { class: 'muted' }, '—') : null,
  ];
}

function erasurePages(page, state) {
  const pages = Math.ceil(page.total / ERASURE_PAGE);
  if (pages <= 1) return null;
  const current = Math.floor(page.offset / ERASURE_PAGE) + 1;
  const at = (offset) => privacyHash({ ...state.filters, before: state.before, erasures: offset || undefined });
  return h('nav', { class: 'pagination', 'aria-label': `${t('erasures')}: ${t('pages')}` },
    current > 1 ? h('a', { href: at(page.offset - ERASURE_PAGE), rel: 'prev' }, t('common.previous')) : null,
    h('span', { class: 'muted' }, t('pageOf', { page: fmtNumber(current), pages: fmtNumber(pages) })),
    current < pages ? h('a', { href: at(page.offset + ERASURE_PAGE), rel: 'next' }, t('common.next')) : null);
}

// --- audit log --------------------------------------------------------------------------------------

/** The API's query for the page's filters ("who" is a kind and, for one person or box, an id). */
function auditQuery(f) {
  const [kind, id] = (f.who || '').split(':');
  return {
    action: f.action, entityType: f.entityType, entityId: f.entityId.trim().toLowerCase(), from: f.from, to: f.to,
    actorKind: ['user', 'box', 'system'].includes(kind) ? kind : undefined,
    actorId: id && UUID.test(id) ? id : undefined,
  };
}

function filterForm(state, users, boxes) {
  const f = state.filters;
  const actionKeys = ACTIONS.slice().sort((a, b) => actionName(a).localeCompare(actionName(b), lang()));
  if (f.action && !actionKeys.includes(f.action)) actionKeys.push(f.action);
  const action = field({ label: t('f.action'), name: 'action', value: f.action,
    options: [['', t('all')], ...actionKeys.map((a) => [a, has(`a.${a}`) ? `${actionName(a)} (${a})` : a])] });
  const entityTypes = ENTITY_TYPES.filter((e) => e !== 'user');
  if (f.entityType && !entityTypes.includes(f.entityType)) entityTypes.push(f.entityType);
  const entityType = field({ label: t('f.entityType'), name: 'entityType', value: f.entityType,
    options: [['', t('all')], ...entityTypes.map((e) => [e, has(`entity.${e}`) ? `${t(`entity.${e}`)} (${e})` : e])] });
  const entityId = field({ label: t('f.entityId'), name: 'entityId', value: f.entityId, hint: t('f.entityIdHint'),
    attrs: { autocomplete: 'off', spellcheck: 'false' } });
  const who = field({ label: t('f.who'), name: 'who', options: [] });
  const option = (value, text) => h('option', { value, selected: value === f.who ? true : undefined }, text);
  replace(who.input,
    option('', t('everyone')),
    option('system', t('who.system')),
    h('optgroup', { label: t('who.users') }, option('user', t('who.allUsers')),
      users.map((u) => option(`user:${u.id.toLowerCase()}`, `${u.displayName} (${u.username})`))),
    boxes.length ? h('optgroup', { label: t('who.boxes') }, option('box', t('who.allBoxes')),
      boxes.map((b) => option(`box:${b.id.toLowerCase()}`, b.name))) : null);
  // A person or box that is not listed (any more) is still filtered by.
  if (f.who && who.input.value !== f.who) { who.input.append(option(f.who, f.who)); who.input.value = f.who; }
  const from = field({ label: t('f.from'), name: 'from', type: 'date', value: f.from });
  const to = field({ label: t('f.to'), name: 'to', type: 'date', value: f.to });
  const fields = { action, entityType, entityId, who, from, to };
  const problems = formProblems();

  const read = () => Object.fromEntries(Object.entries(fields).map(([k, fl]) => [k, fl.input.value.trim()]));
  function check(values = f) {
    const list = [];
    if (values.entityId && !UUID.test(values.entityId.trim())) list.push({ message: t('badId'), field: entityId });
    if (values.from && !DAY.test(values.from)) list.push({ message: t('badDay'), field: from });
    if (values.to && !DAY.test(values.to)) list.push({ message: t('badDay'), field: to });
    else if (values.from && values.to && DAY.test(values.from) && values.to < values.from) list.push({ message: t('toBeforeFrom'), field: to });
    return list;
  }
  const el = h('form', { class: 'privacy-filters', novalidate: true, 'aria-labelledby': 'privacy-filters' },
    h('h3', { id: 'privacy-filters' }, t('filters')),
    problems.summary,
    h('div', { class: 'privacy-filter-grid' }, action.wrap, who.wrap, entityType.wrap, from.wrap, to.wrap),
    h('div', { class: 'privacy-filter-id' }, entityId.wrap),
    h('div', { class: 'button-row' },
      h('button', { type: 'submit', class: 'button' }, t('apply')),
      h('a', { href: privacyHash({ erasures: state.erasureOffset || undefined }) }, t('reset'))));
  el.addEventListener('submit', (event) => {
    event.preventDefault();
    const values = read();
    const list = check(values);
    if (list.length) { problems.show(list); return; }
    // A new filter starts at the newest entry; the erasure page stays where it is.
    location.hash = privacyHash({ ...values, erasures: state.erasureOffset || undefined });
  });
  return {
    el,
    check,
    show: problems.show,
    fromApi: (e) => problems.fromApi(e, (name) => fields[name] || (name === 'actorKind' || name === 'actorId' ? who : null)),
  };
}

function chainState(chain) {
  if (!chain) return h('div', { class: 'privacy-chain' }, h('h3', {}, t('chain')), h('p', {}, t('noChain')));
  const status = statusArea();
  const copy = h('button', { type: 'button', class: 'button secondary' }, t('copy'));
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(chain.hash);
      status.say('success', t('copied'));
    } catch {
      status.say('warning', t('copyFailed'));
    }
  });
  return h('div', { class: 'privacy-chain' },
    h('h3', {}, t('chain')),
    h('p', {}, t('chainSealed', { seq: fmtNumber(chain.seq), time: fmtSeconds(chain.sealedAt) })),
    h('p', { class: 'privacy-head' }, h('span', { class: 'privacy-head-label' }, `${t('chainHead')}: `),
      h('code', { title: chain.hash }, `${chain.hash.slice(0, 12)}…${chain.hash.slice(-8)}`), ' ', copy),
    status.el,
    h('details', {}, h('summary', {}, t('chainFull')), h('p', {}, h('code', { class: 'privacy-hash' }, chain.hash))),
    h('p', { class: 'hint' }, t('chainHint')));
}

function auditTable(page, state, names) {
  const filtered = FILTERS.some((k) => state.filters[k]);
  const heading = h('h3', { class: 'privacy-results-heading', tabindex: '-1' },
    state.before ? t('fromNumber', { id: Number(state.before) - 1 }) : t(filtered ? 'auditCaptionFiltered' : 'auditCaption'));
  if (!page.items.length) {
    return [heading, h('p', {}, t('noEvents')), state.before ? h('p', {}, h('a', { href: privacyHash({ ...state.filters }) }, t('newest'))) : null];
  }
  const older = page.next ? h('a', { href: privacyHash({ ...state.filters, before: page.next, erasures: state.erasureOffset || undefined }), rel: 'next' }, t('older')) : null;
  const newest = state.before ? h('a', { href: privacyHash({ ...state.filters, erasures: state.erasureOffset || undefined }) }, t('newest')) : null;
  return [
    heading,
    h('div', { class: 'table-wrap' }, h('table', { class: 'privacy-audit' },
      h('caption', { class: 'visually-hidden' }, t(filtered ? 'auditCaptionFiltered' : 'auditCaption')),
      h('thead', {}, h('tr', {}, ['id', 'at', 'who', 'action', 'entity', 'request'].map((c) => h('th', { scope: 'col' }, t(`col.${c}`))))),
      h('tbody', {}, page.items.map((e) => h('tr', {},
        h('th', { scope: 'row', class: 'nowrap' }, String(e.id),
          h('span', { class: 'privacy-sub' }, e.chainSeq ? t('chainSeq', { seq: e.chainSeq }) : t('notSealed'))),
        h('td', { class: 'nowrap' }, h('time', { datetime: e.at }, fmtSeconds(e.at))),
        h('td', {}, actor(e, names)),
        h('td', {}, h('span', { class: has(`a.${e.action}`) ? 'privacy-action' : 'privacy-action mono' }, actionName(e.action)), detailLine(e)),
        h('td', {}, entity(e, names)),
        h('td', {}, e.requestId ? mono(e.requestId, 'privacy-request') : '—',
          e.clientAddress ? h('span', { class: 'privacy-sub nowrap' }, t('address', { address: e.clientAddress })) : null)))))),
    older || newest ? h('nav', { class: 'pagination', 'aria-label': `${t('audit')}: ${t('pages')}` }, newest, older) : null,
  ];
}

function actor(e, names) {
  if (e.actorKind === 'system' || !e.actorId) return has(`actor.${e.actorKind}`) ? t(`actor.${e.actorKind}`) : e.actorKind;
  const id = e.actorId.toLowerCase();
  if (e.actorKind === 'user') return names.user.get(id) ?? t('unknownUser', { id: shortId(id) });
  if (e.actorKind === 'box') return names.box.get(id) ?? t('unknownBox', { id: shortId(id) });
  return `${e.actorKind} ${shortId(id)}`;
}

/** The object in words; an application and a box link to their page, an account is named. */
function entity(e, names) {
  const kind = has(`entity.${e.entityType}`) ? t(`entity.${e.entityType}`) : e.entityType;
  if (!e.entityId) return kind;
  const id = e.entityId.toLowerCase();
  if (e.entityType === 'application') return h('a', { href: `#/applications/${id}` }, kind, ' ', mono(shortId(id)));
  if (e.entityType === 'box') return h('a', { href: `#/boxes/${id}` }, kind, ' ', names.box.get(id) ?? mono(shortId(id)));
  if ((e.entityType === 'app_user' || e.entityType === 'user') && names.user.has(id)) return [kind, ' ', names.user.get(id)];
  return [kind, ' ', mono(shortId(id), 'privacy-id')];
}

/** The event's codes (never personal data), e.g. "reason: closed · pass: 65981b30…". */
function detailLine(e) {
  const entries = Object.entries(e.detail || {});
  if (!entries.length) return null;
  return h('span', { class: 'privacy-sub mono' }, entries.map(([k, v]) => `${k}: ${UUID.test(v) ? `${shortId(v)}…` : v}`).join(' · '));
}

const ENTITY_TYPES = ['application', 'app_user', 'audit_event', 'assignment', 'authority', 'box', 'compartment', 'delivery', 'erasure_pass', 'site', 'sms_template', 'user'];
/** The actions the page knows by name: the `a.<action>` strings. */
const ACTIONS = Object.keys(STRINGS.de).filter((k) => k.startsWith('a.')).map((k) => k.slice(2));
