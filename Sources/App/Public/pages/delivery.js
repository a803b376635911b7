// Delivery: record what the Bundesdruckerei delivered, by scanning (modelled on a supermarket till:
// one input that keeps the focus, colour + text + sound per scan, the running list beside it) or by
// importing the delivery note as CSV. A scanning session is one delivery note: the first complete
// pair creates the delivery, every further pair is added to it.

import { h, field, notice, replace, errorSummary, confirmStep } from '../dom.js';
import { api, ApiError, idempotencyKey } from '../api.js';
import { makeT, fmtDateTime, fmtNumber, errorText } from '../i18n.js';
import { compactVorgangsnummer, displayVorgangsnummer } from '../vorgangsnummer.js';

export const css = true;

const t = makeT({
  de: {
    title: 'Lieferung erfassen',
    intro: 'Erfassen Sie, was die Bundesdruckerei geliefert hat: Dokument für Dokument mit dem Scanner oder den ganzen Lieferschein als CSV-Datei.',
    modes: 'Art der Erfassung',
    modeScan: 'Scannen',
    modeCsv: 'CSV-Datei importieren',
    note: 'Lieferscheinnummer',
    noteHint: 'Steht oben auf dem Lieferschein. Eine Erfassung gehört zu genau einem Lieferschein.',
    noteLocked: 'Lieferung angelegt am {time}. Weitere Scans kommen zu diesem Lieferschein.',
    noteMissing: 'Bitte geben Sie zuerst die Lieferscheinnummer ein.',
    noteTaken: 'Diese Lieferscheinnummer wurde schon erfasst. Bitte prüfen Sie die Nummer. Die gescannten Dokumente werden gesendet, sobald Sie eine neue Nummer mit der Eingabetaste bestätigen.',
    noteTooLong: 'Die Lieferscheinnummer darf höchstens 64 Zeichen lang sein.',
    noteInvalid: 'Die Lieferscheinnummer enthält unzulässige Zeichen.',
    scan: 'Barcode scannen',
    scanHint: 'Erst die Dokumentnummer (Rückseite der Karte), dann die Vorgangsnummer (Begleitblatt) – oder beide in einem Code. Steht hier schon etwas, trennt die Tab-Taste wie beim Scanner die beiden Nummern; Umschalt+Tab verlässt das Feld.',
    record: 'Erfassen',
    ready: 'Bereit: Dokumentnummer scannen.',
    waitingVn: 'Dokumentnummer erfasst – jetzt Vorgangsnummer scannen',
    waitingDoc: 'Vorgangsnummer erfasst – jetzt Dokumentnummer scannen',
    discard: 'Halben Scan verwerfen',
    discarded: '{number} verworfen.',
    replacedDoc: 'Die vorige Dokumentnummer {number} hatte keine Vorgangsnummer und wurde verworfen.',
    replacedVn: 'Die vorige Vorgangsnummer {number} hatte keine Dokumentnummer und wurde verworfen.',
    sound: 'Ton bei jedem Ergebnis',
    endSession: 'Neuen Lieferschein beginnen',
    endConfirm: '{count} Scans wurden nicht gesendet und gehen verloren. Trotzdem einen neuen Lieferschein beginnen?',
    endConfirmButton: 'Ja, neuen Lieferschein beginnen',
    ended: 'Lieferschein {note} abgeschlossen: {docs} erfasst, davon {matched} zugeordnet.',
    'docs.one': '1 Dokument',
    'docs.many': '{n} Dokumente',
    csvNoteHint: 'Steht oben auf dem Lieferschein.',
    listTitle: 'Gescannt auf diesem Lieferschein',
    listEmpty: 'Noch nichts gescannt.',
    counts: 'Ergebnisse',
    pos: 'Nr.',
    documentNumber: 'Dokumentnummer',
    vorgangsnummer: 'Vorgangsnummer',
    result: 'Ergebnis',
    compartment: 'Fach',
    lastResult: 'Letzter Scan',
    'r.matched': 'Zugeordnet',
    'r.unknown': 'Unbekannt',
    'r.duplicate': 'Doppelt gescannt',
    'r.already_delivered': 'Bereits geliefert',
    'r.cancelled': 'Storniert',
    'r.invalid': 'Ungültige Nummer',
    'r.sending': 'Wird geprüft …',
    'r.failed': 'Nicht gesendet',
    'r.conflict': 'Doppelt gescannt – andere Vorgangsnummer',
    'x.unknown': 'Diese Vorgangsnummer gibt es bei uns nicht. Dokument beiseitelegen und klären.',
    'x.duplicate': 'Dieses Dokument ist schon erfasst.',
    'x.already_delivered': 'Zu diesem Antrag ist schon ein Dokument erfasst. Dokument beiseitelegen und Antrag prüfen.',
    'x.conflict': 'Diese Dokumentnummer ist schon mit Vorgangsnummer {vn} erfasst. Karte und Begleitblatt vergleichen – eine Zuordnung ist falsch. Dokument beiseitelegen.',
    'x.cancelled': 'Der Antrag ist storniert. Dokument zurücklegen.',
    'x.invalid': 'Dokumentnummer oder Vorgangsnummer ist falsch geformt.',
    inCompartment: 'Fach {number}',
    inCompartmentOf: 'Fach {number} ({box})',
    atCounter: 'Abholung am Schalter',
    waitingCompartment: 'noch kein Fach (Gebühr offen oder Box voll)',
    retry: 'Nicht gesendete Scans erneut senden ({count})',
    sendFailed: 'Nicht gesendet: {reason}',
    'sum.assigned': 'mit Fach',
    'sum.waitingForCompartment': 'warten auf ein Fach',
    'sum.readyAtCounter': 'für den Schalter',
    csvTitle: 'Lieferschein als CSV importieren',
    csvIntro: 'Die erste Zeile benennt die Spalten: „document_number“ und, wenn vorhanden, „vorgangsnummer“. Trennzeichen Komma oder Semikolon.',
    csvFile: 'Lieferschein als CSV',
    csvFileHint: 'Eine .csv-Datei, höchstens 1 MB und 5000 Zeilen.',
    csvSubmit: 'CSV importieren',
    csvSending: 'Wird importiert …',
    csvMissingFile: 'Bitte wählen Sie die CSV-Datei des Lieferscheins aus.',
    csvTooBig: 'Die Datei ist zu groß (höchstens 1 MB).',
    csvInvalid: 'Die Datei ist keine lesbare CSV-Datei. Die erste Zeile muss die Spalte „document_number“ benennen.',
    csvEmpty: 'Die Datei enthält keine Dokumente.',
    csvTooMany: 'Die Datei hat mehr als 5000 Zeilen. Bitte teilen Sie sie auf.',
    csvNotCsv: 'Bitte wählen Sie eine CSV-Datei (Textdatei mit der Endung .csv).',
    csvDone: 'Lieferschein {note} erfasst: {docs}.',
    csvResultCaption: 'Ergebnis je Zeile',
  },
  en: {
    title: 'Record a delivery',
    intro: 'Record what the Bundesdruckerei delivered: document by document with the scanner, or the whole delivery note as a CSV file.',
    modes: 'How to record',
    modeScan: 'Scan',
    modeCsv: 'Import a CSV file',
    note: 'Delivery note number',
    noteHint: 'Printed at the top of the delivery note. One scanning session belongs to exactly one delivery note.',
    noteLocked: 'Delivery recorded at {time}. Further scans are added to this delivery note.',
    noteMissing: 'Please enter the delivery note number first.',
    noteTaken: 'This delivery note number was recorded before. Please check the number. The scanned documents are sent as soon as you confirm a new number with Enter.',
    noteTooLong: 'The delivery note number can be at most 64 characters long.',
    noteInvalid: 'The delivery note number contains characters that are not allowed.',
    scan: 'Scan a barcode',
    scanHint: 'First the document number (back of the card), then the Vorgangsnummer (reference number) on the accompanying sheet – or both in one code. Once something is typed here, the Tab key separates the two numbers as a scanner does; Shift+Tab leaves the field.',
    record: 'Record',
    ready: 'Ready: scan a document number.',
    waitingVn: 'Document number recorded – now scan the Vorgangsnummer',
    waitingDoc: 'Vorgangsnummer recorded – now scan the document number',
    discard: 'Discard the half scan',
    discarded: '{number} discarded.',
    replacedDoc: 'The previous document number {number} had no Vorgangsnummer and was discarded.',
    replacedVn: 'The previous Vorgangsnummer {number} had no document number and was discarded.',
    sound: 'Sound for every result',
    endSession: 'Start a new delivery note',
    endConfirm: '{count} scans were not sent and will be lost. Start a new delivery note anyway?',
    endConfirmButton: 'Yes, start a new delivery note',
    ended: 'Delivery note {note} finished: {docs} recorded, {matched} of them matched.',
    'docs.one': '1 document',
    'docs.many': '{n} documents',
    csvNoteHint: 'Printed at the top of the delivery note.',
    listTitle: 'Scanned on this delivery note',
    listEmpty: 'Nothing scanned yet.',
    counts: 'Results',
    pos: 'No.',
    documentNumber: 'Document number',
    vorgangsnummer: 'Vorgangsnummer',
    result: 'Result',
    compartment: 'Compartment',
    lastResult: 'Last scan',
    'r.matched': 'Matched',
    'r.unknown': 'Unknown',
    'r.duplicate': 'Scanned twice',
    'r.already_delivered': 'Already delivered',
    'r.cancelled': 'Cancelled',
    'r.invalid': 'Invalid number',
    'r.sending': 'Checking …',
    'r.failed': 'Not sent',
    'r.conflict': 'Scanned twice – different Vorgangsnummer',
    'x.unknown': 'We have no application with this Vorgangsnummer. Put the document aside and clear it up.',
    'x.duplicate': 'This document has been recorded already.',
    'x.already_delivered': 'A document has already been recorded for this application. Put the document aside and check the application.',
    'x.conflict': 'This document number has already been recorded with Vorgangsnummer {vn}. Compare the card and the accompanying sheet – one of the pairings is wrong. Put the document aside.',
    'x.cancelled': 'The application is cancelled. Put the document aside.',
    'x.invalid': 'The document number or the Vorgangsnummer is malformed.',
    inCompartment: 'compartment {number}',
    inCompartmentOf: 'compartment {number} ({box})',
    atCounter: 'pickup at the counter',
    waitingCompartment: 'no compartment yet (fee open or box full)',
    retry: 'Send the scans not sent again ({count})',
    sendFailed: 'Not sent: {reason}',
    'sum.assigned': 'with a compartment',
    'sum.waitingForCompartment': 'waiting for a compartment',
    'sum.readyAtCounter': 'for the counter',
    csvTitle: 'Import a delivery note as CSV',
    csvIntro: 'The first line names the columns: “document_number” and, if present, “vorgangsnummer”. Separated by commas or semicolons.',
    csvFile: 'Delivery note as CSV',
    csvFileHint: 'A .csv file, at most 1 MB and 5000 lines.',
    csvSubmit: 'Import CSV',
    csvSending: 'Importing …',
    csvMissingFile: 'Please choose the delivery note’s CSV file.',
    csvTooBig: 'The file is too large (at most 1 MB).',
    csvInvalid: 'The file is not a readable CSV file. Its first line must name the column “document_number”.',
    csvEmpty: 'The file holds no documents.',
    csvTooMany: 'The file has more than 5000 lines. Please split it.',
    csvNotCsv: 'Please choose a CSV file (a text file ending in .csv).',
    csvDone: 'Delivery note {note} recorded: {docs}.',
    csvResultCaption: 'Result per line',
  },
});

const RESULTS = ['matched', 'unknown', 'duplicate', 'already_delivered', 'cancelled', 'invalid'];
const SUMMARY_KEY = { matched: 'matched', unknown: 'unknown', duplicate: 'duplicate', already_delivered: 'alreadyDelivered', cancelled: 'cancelled', invalid: 'invalid' };
// Kept per browser tab; the prefix is the one app.js clears on logout.
const SESSION_KEY = 'pickupbox.form./delivery.session';
const SOUND_KEY = 'pickupbox.scanSound';
const MAX_CSV_BYTES = 1 << 20;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// --- Reading a scan ---------------------------------------------------------------------------

/** The `vn` of a scanned status URL (…/status?vn=XXXX), else null. */
function statusUrlNumber(text) {
  if (!/status/i.test(text)) return null;
  const m = /[?&]vn=([^&#\s]+)/i.exec(text);
  if (!m) return null;
  try { return decodeURIComponent(m[1]).replace(/[\s-]/g, '').toUpperCase(); } catch { return null; }
}

function vorgangsnummerOf(text) { return statusUrlNumber(text) || compactVorgangsnummer(text); }

const DOCUMENT_LIKE = /^[CFGHJKLMNPRTVWXYZ][0-9CFGHJKLMNPRTVWXYZ]{8}[0-9]?$/;

/**
 * What one scan holds: {pair: {documentNumber, vorgangsnummer}} for a combined code
 * (DOCUMENT<tab|space|;|,>VORGANGSNUMMER, either order), else {vorgangsnummer} or {documentNumber};
 * `documentLike` says whether a document number has the form of one (nine or ten characters of the
 * Bundesdruckerei's alphabet), which decides what an unclear scan after a document number is.
 */
export function readScan(raw) {
  const text = raw.trim();
  const vn = vorgangsnummerOf(text);
  if (vn) return { vorgangsnummer: vn };
  if (DOCUMENT_LIKE.test(text.replace(/\s/g, '').toUpperCase())) return { documentNumber: text, documentLike: true };
  const parts = text.split(/[\t ;,]+/).filter(Boolean);
  if (parts.length >= 2) {
    for (let k = 1; k < parts.length; k += 1) {
      const left = parts.slice(0, k).join(''), right = parts.slice(k).join('');
      const rightVn = vorgangsnummerOf(right);
      if (rightVn) return { pair: { documentNumber: left, vorgangsnummer: rightVn } };
      const leftVn = vorgangsnummerOf(left);
      if (leftVn) return { pair: { documentNumber: right, vorgangsnummer: leftVn } };
    }
    // Neither half reads as a Vorgangsnummer: the server reports the item as invalid or unknown.
    return { pair: { documentNumber: parts[0], vorgangsnummer: parts.slice(1).join('') } };
  }
  return { documentNumber: text, documentLike: false };
}

// --- Sound --------------------------------------------------------------------------------------

let audio = null;
function soundOn() { try { return localStorage.getItem(SOUND_KEY) !== 'off'; } catch { return true; } }

/** Must first run inside a key or click handler: browsers only start audio after a user gesture. */
function prepareAudio() {
  if (!soundOn()) return;
  try {
    audio ||= new AudioContext();
    if (audio.state === 'suspended') audio.resume();
  } catch { audio = null; }
}

/** One short high tone for a match, two low ones for a problem. */
function beep(ok) {
  if (!audio || !soundOn()) return;
  const tone = (start, frequency, length) => {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = ok ? 'sine' : 'square';
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(ok ? 0.3 : 0.12, start + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + length);
    osc.connect(gain).connect(audio.destination);
    osc.start(start);
    osc.stop(start + length + 0.02);
  };
  try {
    const now = audio.currentTime;
    if (ok) tone(now, 1320, 0.12);
    else { tone(now, 220, 0.15); tone(now + 0.2, 220, 0.15); }
  } catch { /* no sound, the text and colour still say it */ }
}

// --- Shared bits --------------------------------------------------------------------------------

function noteError(e) {
  if (!(e instanceof ApiError)) return null;
  if (e.code === 'duplicate_delivery_note') return t('noteTaken');
  if (e.field !== 'deliveryNoteNumber') return null;
  if (e.code === 'missing_field') return t('noteMissing');
  if (e.code === 'too_long') return t('noteTooLong');
  return t('noteInvalid');
}

/** The compartment in words; the box name only when the authority has several boxes. */
function compartmentText(item, boxNames) {
  if (!item.compartment) return '';
  const box = boxNames.size > 1 ? boxNames.get(item.compartment.boxId.toLowerCase()) : null;
  return box ? t('inCompartmentOf', { number: item.compartment.number, box }) : t('inCompartment', { number: item.compartment.number });
}

/** "Zugeordnet – Fach 17", "Unbekannt", … */
function resultText(item, boxNames) {
  const label = t(`r.${item.result}`);
  if (item.result !== 'matched') return label;
  if (item.compartment) return `${label} – ${compartmentText(item, boxNames)}`;
  if (item.state === 'ready_at_counter') return `${label} – ${t('atCounter')}`;
  return `${label} – ${t('waitingCompartment')}`;
}

function docs(n) { return n === 1 ? t('docs.one') : t('docs.many', { n: fmtNumber(n) }); }

function resultBadge(result, text) {
  return h('span', { class: ['result', `result-${result}`] }, text);
}

/** Box id → name, for the compartments in the results; without them the results name no box. */
async function loadBoxNames(signal) {
  try {
    const boxes = await api('GET', '/api/v1/boxes', { signal });
    return new Map(boxes.map((b) => [b.id.toLowerCase(), b.name]));
  } catch (e) {
    // The user left (or must log in again): the page must not go on wiring itself.
    if (e?.name === 'AbortError' || (e instanceof ApiError && e.status === 401)) throw e;
    return new Map();
  }
}

function modeSwitch(mode) {
  const link = (m, text) => h('a', { href: m === 'scan' ? '#/delivery' : '#/delivery?mode=csv', class: 'mode-link', 'aria-current': mode === m ? 'true' : undefined }, text);
  return h('nav', { class: 'mode-switch', 'aria-label': t('modes') }, h('ul', {}, h('li', {}, link('scan', t('modeScan'))), h('li', {}, link('csv', t('modeCsv')))));
}

export async function render(ctx) {
  ctx.setTitle(t('title'));
  const mode = ctx.query.get('mode') === 'csv' ? 'csv' : 'scan';
  const boxNames = await loadBoxNames(ctx.signal);
  ctx.main.append(h('h1', {}, t('title')), h('p', {}, t('intro')), modeSwitch(mode));
  if (mode === 'csv') renderCsv(ctx, boxNames);
  else await renderScan(ctx, boxNames);
}

// --- Scanning ------------------------------------------------------------------------------------

function loadSession() {
  try { return JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null'); } catch { return null; }
}

async function renderScan(ctx, boxNames) {
  // One scanning session = one delivery note. `entries` newest first; each entry owns its table row.
  const newSession = () => ({ id: null, note: '', receivedAt: null, entries: [], summary: null, firstInDoubt: false });
  let session = newSession();
  let pending = null; // {documentNumber} or {vorgangsnummer}: the half waiting for its partner
  let queue = Promise.resolve();

  const noteField = field({ label: t('note'), name: 'deliveryNoteNumber', hint: t('noteHint'), autocomplete: 'off', attrs: { spellcheck: 'false', autocapitalize: 'characters', maxlength: '64' } });
  const noteLocked = h('p', { class: 'note-locked', hidden: true });
  const noteForm = h('form', { class: 'note-form', novalidate: true }, noteField.wrap, noteLocked);
  const kept = ctx.keepForm(noteForm, 'note');

  const scanField = field({ label: t('scan'), hint: t('scanHint'), autocomplete: 'off', attrs: { spellcheck: 'false', autocapitalize: 'characters', enterkeyhint: 'done', class: 'scan-input' } });
  const waiting = h('div', { class: 'waiting', role: 'status' });
  const scanForm = h('form', { class: 'scan-form', novalidate: true }, scanField.wrap,
    h('div', { class: 'button-row scan-buttons' }, h('button', { type: 'submit', class: 'button' }, t('record'))), waiting);
  const last = h('div', { class: 'last-result last-none', role: 'status', 'aria-live': 'polite' });
  const soundField = field({ label: t('sound'), type: 'checkbox', value: soundOn() });
  soundField.input.addEventListener('change', () => {
    try { localStorage.setItem(SOUND_KEY, soundField.input.checked ? 'on' : 'off'); } catch { /* not remembered */ }
  });
  const endButton = h('button', { type: 'button', class: 'button secondary' }, t('endSession'));
  const endConfirm = h('div', { hidden: true });
  const endedNotice = h('div', { class: 'ended' });

  const counts = h('ul', { class: 'counts', 'aria-label': t('counts') });
  const retryButton = h('button', { type: 'button', class: 'button secondary', on: { click: () => { retryAll(); scanInput.focus(); } } });
  const retryRow = h('div', { class: 'button-row', hidden: true }, retryButton);
  const tbody = h('tbody', {});
  const empty = h('p', { class: 'muted' }, t('listEmpty'));
  const table = h('div', { class: 'table-wrap' }, h('table', { class: 'scan-table', 'aria-labelledby': 'scan-list-title' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', class: 'num' }, t('pos')), h('th', { scope: 'col' }, t('documentNumber')),
      h('th', { scope: 'col' }, t('vorgangsnummer')), h('th', { scope: 'col' }, t('result')))),
    tbody));

  ctx.main.append(h('div', { class: 'scan-layout' },
    h('section', { class: 'scan-panel', 'aria-label': t('modeScan') }, endedNotice, noteForm, scanForm,
      h('h2', { class: 'visually-hidden' }, t('lastResult')), last,
      h('div', { class: 'scan-tools' }, soundField.wrap, h('div', { class: 'button-row' }, endButton), endConfirm)),
    h('section', { class: 'scan-list', 'aria-labelledby': 'scan-list-title' },
      h('h2', { id: 'scan-list-title' }, t('listTitle')), counts, retryRow, empty, table)));

  const scanInput = scanField.input;
  const noteInput = noteField.input;

  function saveSession() {
    const unsent = session.entries.filter((e) => e.state === 'failed').reverse().map((e) => e.pair);
    try { sessionStorage.setItem(SESSION_KEY, JSON.stringify({ id: session.id, note: session.note, receivedAt: session.receivedAt, unsent })); } catch { /* not kept */ }
  }

  function showNoteState() {
    const locked = Boolean(session.id);
    noteInput.readOnly = locked;
    noteField.wrap.classList.toggle('locked', locked);
    noteLocked.hidden = !locked;
    if (locked) noteLocked.textContent = t('noteLocked', { time: fmtDateTime(session.receivedAt) });
  }

  function showWaiting() {
    if (!pending) {
      replace(waiting, h('p', { class: 'waiting-ready' }, t('ready')));
      waiting.className = 'waiting';
      return;
    }
    const isDoc = Boolean(pending.documentNumber);
    replace(waiting,
      h('p', { class: 'waiting-half' }, h('strong', {}, t(isDoc ? 'waitingVn' : 'waitingDoc')), ' ',
        h('span', { class: 'mono' }, `(${isDoc ? pending.documentNumber : displayVorgangsnummer(pending.vorgangsnummer)})`)),
      h('button', { type: 'button', class: 'link-button', on: { click: discardPending } }, t('discard')));
    waiting.className = 'waiting waiting-active';
  }

  function discardPending() {
    if (!pending) return;
    const number = pending.documentNumber || displayVorgangsnummer(pending.vorgangsnummer);
    pending = null;
    showWaiting();
    showLast('warning', t('discarded', { number }));
    scanInput.focus();
  }

  /** The big box under the input: kind is a result (its colour) or warning/failed; numbers in mono. */
  function showLast(kind, text, numbers, explanation) {
    last.className = `last-result last-${kind}`;
    replace(last, h('p', { class: 'last-text' }, text),
      numbers ? h('p', { class: 'last-numbers' }, numbers) : null,
      explanation ? h('p', { class: 'last-why' }, explanation) : null);
  }

  function renderCounts() {
    const sum = session.summary;
    const failed = session.entries.filter((e) => e.state === 'failed').length;
    const items = RESULTS.map((r) => {
      const n = sum ? sum[SUMMARY_KEY[r]] : 0;
      return h('li', { class: ['count', `count-${r}`, n ? null : 'count-zero'] }, h('span', { class: 'count-label' }, t(`r.${r}`)), ' ', h('strong', {}, fmtNumber(n)));
    });
    if (failed) items.push(h('li', { class: 'count count-failed' }, h('span', { class: 'count-label' }, t('r.failed')), ' ', h('strong', {}, fmtNumber(failed))));
    replace(counts, items);
    const extra = sum && sum.matched ? ['assigned', 'waitingForCompartment', 'readyAtCounter'].filter((k) => sum[k]).map((k) => `${fmtNumber(sum[k])} ${t(`sum.${k}`)}`).join(' · ') : '';
    if (extra) counts.append(h('li', { class: 'count-extra muted' }, `${t('r.matched')}: ${extra}`));
    retryRow.hidden = !failed;
    retryButton.textContent = t('retry', { count: failed });
    empty.hidden = session.entries.length > 0;
    table.hidden = session.entries.length === 0;
  }

  /**
   * A document number scanned again with another Vorgangsnummer: one of the two pairings is wrong.
   * The Vorgangsnummer of the row of this delivery note where it was first scanned, when that one
   * differs, else null.
   */
  function conflictOf(entry) {
    const item = entry.item;
    if (!item || item.result !== 'duplicate') return null;
    const first = session.entries.slice(session.entries.indexOf(entry) + 1).reverse()
      .find((e) => e.item && e.item.documentNumber === item.documentNumber);
    if (!first) return null;
    const vn = first.item.vorgangsnummer || '';
    const same = (a, b) => String(a || '').replace(/[\s-]/g, '').toUpperCase() === String(b || '').replace(/[\s-]/g, '').toUpperCase();
    return same(vn, item.vorgangsnummer) ? null : vn;
  }

  function renderRow(entry) {
    const item = entry.item;
    const conflict = conflictOf(entry);
    const doc = item ? item.documentNumber : entry.pair.documentNumber;
    const vn = item ? (item.vorgangsnummer || '') : entry.pair.vorgangsnummer;
    let resultCell;
    if (entry.state === 'sending') resultCell = resultBadge('sending', t('r.sending'));
    else if (entry.state === 'failed') resultCell = resultBadge('failed', t('sendFailed', { reason: entry.reason }));
    else if (conflict !== null) {
      resultCell = [resultBadge('conflict', t('r.conflict')),
        h('span', { class: 'result-why result-why-error' }, t('x.conflict', { vn: displayVorgangsnummer(conflict) }))];
    } else resultCell = resultBadge(item.result, resultText(item, boxNames));
    replace(entry.row,
      h('td', { class: 'num' }, item ? String(item.position) : '–'),
      h('td', { class: 'mono' }, doc),
      h('td', { class: 'mono' }, displayVorgangsnummer(vn)),
      h('td', {}, resultCell));
  }

  function addEntry(pair, state = 'sending', reason = '', item = null) {
    const entry = { pair, state, reason, item, row: h('tr', {}) };
    session.entries.unshift(entry);
    tbody.prepend(entry.row);
    renderRow(entry);
    renderCounts();
    return entry;
  }

  /** Adopts the server's answer: every item not yet on the list becomes the result of the next sending entries. */
  function adopt(target, delivery, entriesSent) {
    target.id = delivery.id;
    target.note = delivery.deliveryNoteNumber;
    target.receivedAt = delivery.receivedAt;
    target.summary = delivery.summary;
    const fresh = delivery.items.slice(delivery.items.length - entriesSent.length);
    entriesSent.forEach((entry, i) => { entry.item = fresh[i]; entry.state = 'done'; });
  }

  async function send(target, entry) {
    const { pair } = entry;
    const items = [{ documentNumber: pair.documentNumber, vorgangsnummer: pair.vorgangsnummer }];
    if (target.id) return api('POST', `/api/v1/deliveries/${target.id}/items`, { body: { items } });
    // The first POST of a pair keeps its key through retries (the server then answers a POST that did
    // arrive once more instead of recording it twice); a new note number is a new request and key.
    if (!pair.key || pair.keyNote !== target.note) { pair.key = idempotencyKey(); pair.keyNote = target.note; }
    return api('POST', '/api/v1/deliveries', { body: { deliveryNoteNumber: target.note, items }, headers: { 'Idempotency-Key': pair.key } });
  }

  function refocus() {
    const active = document.activeElement;
    if (!active || active === document.body || active === ctx.main || !active.matches('input, select, textarea, button, a[href], [tabindex]')) scanInput.focus();
  }

  function submitPair(pair) {
    const target = session;
    const entry = addEntry(pair);
    // One scan after the other; a scan that fails in an unforeseen way says so and stops no later one.
    queue = queue.then(async () => {
      if (target !== session) return; // a new delivery note was begun meanwhile
      if (!target.note || (!target.id && target.firstInDoubt)) {
        // Without a delivery yet, and a first POST whose fate is unknown, a second one could record
        // the note twice: wait until that one is sent again.
        entry.state = 'failed';
        entry.reason = target.note ? t('r.failed') : t('noteMissing');
        finish(target, entry);
        return;
      }
      try {
        const delivery = await send(target, entry);
        adopt(target, delivery, [entry]);
        noteField.setError(null);
        showNoteState();
        const item = entry.item;
        const ok = item.result === 'matched';
        const numbers = [item.documentNumber, displayVorgangsnummer(item.vorgangsnummer || '')].filter(Boolean).join(' · ');
        const conflict = conflictOf(entry);
        if (conflict !== null) showLast('conflict', t('r.conflict'), numbers, t('x.conflict', { vn: displayVorgangsnummer(conflict) }));
        else showLast(item.result, resultText(item, boxNames), numbers, ok ? null : t(`x.${item.result}`));
        beep(ok);
      } catch (e) {
        entry.state = 'failed';
        const atNote = noteError(e);
        entry.reason = atNote ? t('note') : errorText(e);
        if (atNote) noteField.setError(atNote);
        showLast('failed', t('r.failed'), entry.pair.documentNumber, atNote || entry.reason);
        beep(false);
        if (!target.id && !atNote && (!(e instanceof ApiError) || e.status === 0 || e.status >= 500)) target.firstInDoubt = true;
        if (atNote && !target.id) { noteInput.readOnly = false; noteInput.focus(); }
      } finally {
        finish(target, entry);
      }
    }).catch((e) => {
      showLast('failed', t('r.failed'), entry.pair.documentNumber, errorText(e));
      beep(false);
    });
  }

  function finish(target, entry) {
    if (target !== session) return;
    renderRow(entry);
    renderCounts();
    saveSession();
    if (document.activeElement !== noteInput) refocus();
  }

  /** Sends every scan that was not sent again, oldest first. */
  function retryAll() {
    const failed = session.entries.filter((e) => e.state === 'failed').reverse();
    session.firstInDoubt = false;
    for (const entry of failed) {
      session.entries.splice(session.entries.indexOf(entry), 1);
      entry.row.remove();
    }
    for (const entry of failed) submitPair(entry.pair);
    renderCounts();
  }

  function onScan(raw) {
    const scan = readScan(raw);
    if (scan.pair) { submitPair(scan.pair); return; }
    if (scan.documentNumber && pending?.vorgangsnummer) {
      submitPair({ documentNumber: scan.documentNumber, vorgangsnummer: pending.vorgangsnummer });
      pending = null;
    } else if (scan.vorgangsnummer && pending?.documentNumber) {
      submitPair({ documentNumber: pending.documentNumber, vorgangsnummer: scan.vorgangsnummer });
      pending = null;
    } else if (scan.documentNumber && !scan.documentLike && pending?.documentNumber) {
      // Not a document number after a document number: the partner, perhaps an external
      // Vorgangsnummer of the specialist software. The server checks it; nothing is dropped.
      submitPair({ documentNumber: pending.documentNumber, vorgangsnummer: scan.documentNumber.trim() });
      pending = null;
    } else {
      // A second half of the same kind: the previous one had no partner; say so instead of guessing.
      if (pending) {
        showLast('warning', pending.documentNumber ? t('replacedDoc', { number: pending.documentNumber }) : t('replacedVn', { number: displayVorgangsnummer(pending.vorgangsnummer) }));
        beep(false);
      }
      pending = scan.documentNumber ? { documentNumber: scan.documentNumber.trim() } : { vorgangsnummer: scan.vorgangsnummer };
    }
    showWaiting();
  }

  scanForm.addEventListener('submit', (event) => {
    event.preventDefault();
    prepareAudio();
    const raw = scanInput.value;
    scanInput.value = '';
    scanInput.focus();
    if (!raw.trim()) return;
    if (!noteInput.value.trim()) {
      noteField.setError(t('noteMissing'));
      noteInput.focus();
      scanInput.value = raw;
      return;
    }
    if (!session.id) session.note = noteInput.value.trim();
    onScan(raw);
  });

  // A scanner that separates the two numbers with a tab must not move the focus away.
  scanInput.addEventListener('keydown', (event) => {
    if (event.key === 'Tab' && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey && scanInput.value.trim()) {
      event.preventDefault();
      const { selectionStart: a, selectionEnd: b, value } = scanInput;
      scanInput.value = `${value.slice(0, a)}\t${value.slice(b)}`;
      scanInput.setSelectionRange(a + 1, a + 1);
    }
  });

  // Enter in the note field moves on to scanning; after a refused number it sends what waits.
  noteForm.addEventListener('submit', (event) => {
    event.preventDefault();
    prepareAudio();
    if (session.id) { scanInput.focus(); return; }
    const note = noteInput.value.trim();
    if (!note) { noteField.setError(t('noteMissing')); noteInput.focus(); return; }
    noteField.setError(null);
    session.note = note;
    scanInput.focus();
    if (session.entries.some((e) => e.state === 'failed')) retryAll();
  });
  noteInput.addEventListener('input', () => { if (!session.id) noteField.setError(null); });

  endButton.addEventListener('click', async () => {
    const unsent = session.entries.filter((e) => e.state === 'failed').length;
    if (unsent && !await confirmStep(endConfirm, { question: t('endConfirm', { count: unsent }), confirm: t('endConfirmButton') })) return;
    const done = session;
    if (done.id) {
      const count = done.entries.filter((e) => e.state === 'done').length;
      replace(endedNotice, notice('success', h('p', {}, t('ended', { note: done.note, docs: docs(count), matched: done.summary?.matched || 0 }))));
    } else endedNotice.replaceChildren();
    session = newSession();
    pending = null;
    try { sessionStorage.removeItem(SESSION_KEY); } catch { /* ignore */ }
    kept.clear();
    noteInput.value = '';
    noteField.setError(null);
    tbody.replaceChildren();
    last.className = 'last-result last-none';
    last.replaceChildren();
    showNoteState();
    showWaiting();
    renderCounts();
    noteInput.focus();
  });

  // The till model: a click on anything that is not a control puts the focus back into the scan input.
  const onPageClick = (event) => {
    if (event.target.closest('input, select, textarea, button, a[href], label, summary, [tabindex]:not(main)')) return;
    if (noteInput.value.trim() || session.id) scanInput.focus();
  };
  const onBlur = (event) => {
    if (event.relatedTarget) return;
    setTimeout(() => {
      const active = document.activeElement;
      if (scanInput.isConnected && (!active || active === document.body || active === ctx.main)) scanInput.focus();
    }, 0);
  };
  document.addEventListener('click', onPageClick);
  scanInput.addEventListener('blur', onBlur);
  ctx.onLeave(() => document.removeEventListener('click', onPageClick));

  // Resume a session this tab began (after a reload or a forced login).
  const saved = loadSession();
  if (UUID.test(saved?.id || '')) {
    try {
      const delivery = await api('GET', `/api/v1/deliveries/${saved.id}`, { signal: ctx.signal });
      session.id = delivery.id;
      session.note = delivery.deliveryNoteNumber;
      session.receivedAt = delivery.receivedAt;
      session.summary = delivery.summary;
      noteInput.value = delivery.deliveryNoteNumber;
      for (const item of delivery.items) {
        addEntry({ documentNumber: item.documentNumber, vorgangsnummer: item.vorgangsnummer || '' }, 'done', '', item);
      }
    } catch (e) {
      if (e?.name === 'AbortError' || (e instanceof ApiError && e.status === 401)) throw e;
      try { sessionStorage.removeItem(SESSION_KEY); } catch { /* ignore */ }
    }
  } else if (saved?.note && !kept.restored) noteInput.value = saved.note;
  if (saved?.unsent?.length) {
    session.note = session.note || noteInput.value.trim();
    for (const pair of saved.unsent) addEntry(pair, 'failed', t('r.failed'));
  }

  showNoteState();
  showWaiting();
  renderCounts();
  (noteInput.value.trim() ? scanInput : noteInput).focus();
}

// --- CSV import ----------------------------------------------------------------------------------

function renderCsv(ctx, boxNames) {
  const noteField = field({ label: t('note'), name: 'deliveryNoteNumber', hint: t('csvNoteHint'), autocomplete: 'off', attrs: { spellcheck: 'false', autocapitalize: 'characters', maxlength: '64' } });
  const fileField = field({ label: t('csvFile'), name: 'file', type: 'file', hint: t('csvFileHint'), attrs: { accept: '.csv,text/csv' } });
  const summary = h('div', { class: 'error-summary', tabindex: '-1', hidden: true });
  const submit = h('button', { type: 'submit', class: 'button' }, t('csvSubmit'));
  const form = h('form', { class: 'csv-form', novalidate: true }, summary, noteField.wrap, fileField.wrap, h('div', { class: 'button-row' }, submit));
  const output = h('div', { class: 'csv-output', tabindex: '-1' });
  const kept = ctx.keepForm(form, 'csv');
  ctx.main.append(h('h2', {}, t('csvTitle')), h('p', {}, t('csvIntro')), form, output);
  let key = null, keyFor = null;

  const problem = (list) => errorSummary(summary, t('common.errorSummary'), list);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    noteField.setError(null);
    fileField.setError(null);
    summary.hidden = true;
    const problems = [];
    const note = noteField.input.value.trim();
    const file = fileField.input.files[0];
    if (!note) { noteField.setError(t('noteMissing')); problems.push({ message: t('noteMissing'), input: noteField.input }); }
    if (!file) { fileField.setError(t('csvMissingFile')); problems.push({ message: t('csvMissingFile'), input: fileField.input }); }
    else if (file.size > MAX_CSV_BYTES) { fileField.setError(t('csvTooBig')); problems.push({ message: t('csvTooBig'), input: fileField.input }); }
    if (problems.length) { problem(problems); return; }
    submit.disabled = true;
    submit.textContent = t('csvSending');
    try {
      const text = await file.text();
      // The same file and note sent twice (a double click) is recorded once.
      const fingerprint = `${note}\n${file.name}\n${file.size}\n${file.lastModified}`;
      if (keyFor !== fingerprint) { key = idempotencyKey(); keyFor = fingerprint; }
      const delivery = await api('POST', '/api/v1/deliveries/import', { query: { deliveryNoteNumber: note }, body: text, headers: { 'Content-Type': 'text/csv', 'Idempotency-Key': key } });
      showDelivery(delivery);
      form.reset();
      key = null; keyFor = null;
      kept.clear();
    } catch (e) {
      const atNote = noteError(e);
      let message;
      let input = fileField.input;
      if (atNote) { message = atNote; input = noteField.input; noteField.setError(message); }
      else if (e instanceof ApiError && e.status === 413) message = t('csvTooBig');
      else if (e instanceof ApiError && e.status === 415) message = t('csvNotCsv');
      else if (e instanceof ApiError && e.code === 'invalid_csv') message = t('csvInvalid');
      else if (e instanceof ApiError && e.code === 'too_many') message = t('csvTooMany');
      else if (e instanceof ApiError && e.code === 'missing_field' && e.field === 'items') message = t('csvEmpty');
      else { errorSummary(summary, errorText(e)); return; }
      if (input === fileField.input) fileField.setError(message);
      problem([{ message, input }]);
    } finally {
      submit.disabled = false;
      submit.textContent = t('csvSubmit');
    }
  });

  function showDelivery(delivery) {
    const sum = delivery.summary;
    const countItems = RESULTS.map((r) => h('li', { class: ['count', `count-${r}`, sum[SUMMARY_KEY[r]] ? null : 'count-zero'] },
      h('span', { class: 'count-label' }, t(`r.${r}`)), ' ', h('strong', {}, fmtNumber(sum[SUMMARY_KEY[r]]))));
    const extra = ['assigned', 'waitingForCompartment', 'readyAtCounter'].filter((k) => sum[k]).map((k) => `${fmtNumber(sum[k])} ${t(`sum.${k}`)}`).join(' · ');
    if (sum.matched && extra) countItems.push(h('li', { class: 'count-extra muted' }, `${t('r.matched')}: ${extra}`));
    replace(output,
      notice('success', h('p', {}, t('csvDone', { note: delivery.deliveryNoteNumber, docs: docs(delivery.items.length) }))),
      h('ul', { class: 'counts', 'aria-label': t('counts') }, countItems),
      h('div', { class: 'table-wrap' }, h('table', { class: 'scan-table' },
        h('caption', {}, t('csvResultCaption')),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', class: 'num' }, t('pos')), h('th', { scope: 'col' }, t('documentNumber')),
          h('th', { scope: 'col' }, t('vorgangsnummer')), h('th', { scope: 'col' }, t('result')), h('th', { scope: 'col' }, t('compartment')))),
        h('tbody', {}, delivery.items.map((item) => h('tr', {},
          h('td', { class: 'num' }, String(item.position)),
          h('td', { class: 'mono' }, item.documentNumber),
          h('td', { class: 'mono' }, displayVorgangsnummer(item.vorgangsnummer || '')),
          h('td', {}, resultBadge(item.result, t(`r.${item.result}`)), item.result === 'matched' ? null : h('span', { class: 'result-why' }, t(`x.${item.result}`))),
          h('td', {}, item.compartment ? compartmentText(item, boxNames) : (item.result === 'matched' ? (item.state === 'ready_at_counter' ? t('atCounter') : t('waitingCompartment')) : t('common.none')))))))));
    output.focus();
  }
}
