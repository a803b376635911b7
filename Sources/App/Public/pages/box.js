// One box: its compartment grid as built (row 1 at the top), one button per compartment coloured by
// state with a symbol and a text cue, a details panel that follows focus (and hover) with blocking
// and unblocking, and the loading and retrieval lists as printable tables (?list=loading|retrieval).

import { h, field, notice, replace } from '../dom.js';
import { api, ApiError } from '../api.js';
import { makeT, fmtDate, fmtDateTime, fmtNumber, errorText } from '../i18n.js';
import { connection, pickupsBlocked, loadingBlocked } from '../box-status.js';
import { displayVorgangsnummer } from '../vorgangsnummer.js';

export const css = true;

const t = makeT({
  de: {
    allBoxes: 'Alle Boxen',
    views: 'Ansichten der Box',
    viewGrid: 'Fächer',
    viewLoading: 'Beladeliste',
    viewRetrieval: 'Entnahmeliste',
    site: 'Standort {name}',
    pickupsBlocked: 'Abholungen gesperrt bis {time}: zu viele Fehlversuche an der Box. Bitte prüfen Sie, ob jemand Hilfe braucht.',
    loadingBlocked: 'Beladen gesperrt bis {time}: zu viele abgelehnte Dienstausweise oder unbekannte Dokumente beim Beladen. Bitte prüfen Sie, was an der Box geschieht.',
    gridLabel: 'Fächer von {box}',
    gridHelp: 'Pfeiltasten wechseln das Fach, Pos1 und Ende springen an den Anfang und das Ende der Reihe. Die Angaben zum Fach stehen daneben.',
    legend: 'Legende',
    'k.free': 'Frei',
    'k.to_load': 'Zu beladen',
    'k.loaded': 'Beladen',
    'k.to_retrieve': 'Zu entnehmen',
    'k.blocked': 'Gesperrt',
    'k.occupied': 'Belegt',
    accessibleMark: 'R = barrierefrei erreichbar',
    cellLabel: 'Fach {number}: {state}',
    cellAccessible: ', barrierefrei erreichbar',
    refresh: 'Aktualisieren',
    updated: 'Stand {time}',
    pick: 'Wählen Sie ein Fach aus: mit der Maus oder mit Tab und den Pfeiltasten.',
    compartment: 'Fach {number}',
    panel: 'Angaben zum Fach',
    preview: 'Klicken Sie auf das Fach, um es zu sperren oder die Sperre aufzuheben.',
    state: 'Zustand',
    position: 'Lage',
    positionValue: 'Reihe {row}, Spalte {column}',
    accessible: 'Barrierefrei',
    floor: 'Boden in {cm} cm Höhe',
    size: 'Größe',
    sizeValue: 'Klasse {n}',
    vns: 'Vorgangsnummer',
    blockReason: 'Sperrgrund',
    'reason.defect': 'Defekt',
    'reason.maintenance': 'Wartung',
    'reason.other': 'Sonstiges',
    reason: 'Grund',
    note: 'Bemerkung',
    noteHint: 'Pflicht bei „Sonstiges“, höchstens 200 Zeichen.',
    noteMissing: 'Bitte beschreiben Sie den Grund in der Bemerkung.',
    noteTooLong: 'Die Bemerkung darf höchstens 200 Zeichen lang sein.',
    noteInvalid: 'Die Bemerkung enthält unzulässige Zeichen.',
    blockTitle: 'Fach sperren',
    block: 'Fach sperren',
    unblock: 'Sperre aufheben',
    occupiedNoBlock: 'Ein belegtes Fach kann nicht gesperrt werden.',
    blocked: 'Fach {number} ist jetzt gesperrt.',
    unblocked: 'Fach {number} ist wieder frei.',
    print: 'Drucken',
    loadingTitle: 'Beladeliste',
    loadingIntro: 'Fächer mit zugewiesenem Dokument, das noch in die Box muss.',
    loadingEmpty: 'Zurzeit ist kein Fach zu beladen.',
    retrievalTitle: 'Entnahmeliste',
    retrievalIntro: 'Fächer, aus denen Dokumente zu entnehmen sind: Abholfrist abgelaufen oder Antrag storniert.',
    retrievalEmpty: 'Zurzeit ist nichts zu entnehmen.',
    retrievalCsv: 'Entnahmeliste des Standorts als CSV herunterladen',
    listMeta: '{box} · {site} · Stand {time}',
    colCompartment: 'Fach',
    colPosition: 'Lage',
    colAccessible: 'Barriere\u00adfrei',
    colDocuments: 'Dokumentnummer',
    colVns: 'Vorgangsnummer',
    colAssigned: 'Zugewiesen',
    colReason: 'Grund',
    colDeadline: 'Abholfrist',
    colLoaded: 'Beladen am',
    colDone: 'Erledigt',
    'why.deadline_passed': 'Frist abgelaufen',
    'why.cancelled': 'Storniert',
  },
  en: {
    allBoxes: 'All boxes',
    views: 'Views of the box',
    viewGrid: 'Compartments',
    viewLoading: 'Loading list',
    viewRetrieval: 'Retrieval list',
    site: 'Site {name}',
    pickupsBlocked: 'Pickups blocked until {time}: too many failed attempts at the box. Please check whether someone needs help.',
    loadingBlocked: 'Loading blocked until {time}: too many refused staff badges or unknown documents while loading. Please check what is going on at the box.',
    gridLabel: 'Compartments of {box}',
    gridHelp: 'Arrow keys move between compartments, Home and End jump to the start and end of the row. The compartment’s details are shown beside.',
    legend: 'Legend',
    'k.free': 'Free',
    'k.to_load': 'To be loaded',
    'k.loaded': 'Loaded',
    'k.to_retrieve': 'To be retrieved',
    'k.blocked': 'Blocked',
    'k.occupied': 'Occupied',
    accessibleMark: 'R = accessible (easy-to-reach height)',
    cellLabel: 'Compartment {number}: {state}',
    cellAccessible: ', accessible',
    refresh: 'Refresh',
    updated: 'As of {time}',
    pick: 'Choose a compartment: with the mouse, or with Tab and the arrow keys.',
    compartment: 'Compartment {number}',
    panel: 'Compartment details',
    preview: 'Click the compartment to block or unblock it.',
    state: 'State',
    position: 'Position',
    positionValue: 'Row {row}, column {column}',
    accessible: 'Accessible',
    floor: 'floor at {cm} cm',
    size: 'Size',
    sizeValue: 'Class {n}',
    vns: 'Vorgangsnummer (reference number)',
    blockReason: 'Reason for the block',
    'reason.defect': 'Defect',
    'reason.maintenance': 'Maintenance',
    'reason.other': 'Other',
    reason: 'Reason',
    note: 'Note',
    noteHint: 'Required for “Other”, at most 200 characters.',
    noteMissing: 'Please describe the reason in the note.',
    noteTooLong: 'The note can be at most 200 characters long.',
    noteInvalid: 'The note contains characters that are not allowed.',
    blockTitle: 'Block the compartment',
    block: 'Block compartment',
    unblock: 'Unblock',
    occupiedNoBlock: 'An occupied compartment cannot be blocked.',
    blocked: 'Compartment {number} is blocked now.',
    unblocked: 'Compartment {number} is free again.',
    print: 'Print',
    loadingTitle: 'Loading list',
    loadingIntro: 'Compartments with an assigned document that still has to go into the box.',
    loadingEmpty: 'No compartment is to be loaded right now.',
    retrievalTitle: 'Retrieval list',
    retrievalIntro: 'Compartments whose documents are to be taken out: pickup deadline passed or application cancelled.',
    retrievalEmpty: 'Nothing is to be taken out right now.',
    retrievalCsv: 'Download the site’s retrieval list as CSV',
    listMeta: '{box} · {site} · as of {time}',
    colCompartment: 'Compartment',
    colPosition: 'Position',
    colAccessible: 'Accessible',
    colDocuments: 'Document number',
    colVns: 'Vorgangsnummer (reference number)',
    colAssigned: 'Assigned',
    colReason: 'Reason',
    colDeadline: 'Pickup deadline',
    colLoaded: 'Loaded on',
    colDone: 'Done',
    'why.deadline_passed': 'Deadline passed',
    'why.cancelled': 'Cancelled',
  },
});

/** The server's refusals of a block or unblock, in our words ({number} is the compartment). */
const CODES = {
  de: {
    compartment_occupied: 'Fach {number} ist belegt und kann nicht gesperrt werden.',
    compartment_already_blocked: 'Fach {number} ist schon gesperrt.',
    compartment_not_blocked: 'Fach {number} ist nicht gesperrt.',
  },
  en: {
    compartment_occupied: 'Compartment {number} is occupied and cannot be blocked.',
    compartment_already_blocked: 'Compartment {number} is blocked already.',
    compartment_not_blocked: 'Compartment {number} is not blocked.',
  },
};

const KINDS = ['free', 'to_load', 'loaded', 'to_retrieve', 'blocked'];
// A symbol per state besides the colour (WCAG 1.4.1); the legend explains them.
const MARK = { free: '', to_load: '↓', loaded: '■', to_retrieve: '↑', blocked: '✕', occupied: '■' };
const REFRESH_MS = 60_000;

function kindOf(c) {
  if (c.state === 'blocked') return 'blocked';
  if (c.assignmentStatus === 'assigned') return 'to_load';
  if (c.assignmentStatus === 'loaded') return 'loaded';
  if (c.assignmentStatus === 'retrieval_due') return 'to_retrieve';
  return c.state === 'occupied' ? 'occupied' : 'free';
}

function subnav(box, view) {
  const item = (v, text) => h('li', {}, h('a', { href: `#/boxes/${box.id}${v === 'grid' ? '' : `?list=${v}`}`, 'aria-current': view === v ? 'page' : undefined }, text));
  return h('nav', { class: 'box-subnav no-print', 'aria-label': t('views') },
    h('ul', {}, item('grid', t('viewGrid')), item('loading', t('viewLoading')), item('retrieval', t('viewRetrieval'))));
}

export async function render(ctx) {
  const list = ctx.query.get('list');
  const view = list === 'loading' || list === 'retrieval' ? list : 'grid';
  // The lists need only the box's name and site: the list of boxes is far smaller than the grid.
  const box = view === 'grid'
    ? await api('GET', `/api/v1/boxes/${ctx.params.id}`, { signal: ctx.signal })
    : (await api('GET', '/api/v1/boxes', { signal: ctx.signal })).find((b) => b.id.toLowerCase() === ctx.params.id.toLowerCase());
  ctx.main.classList.add('box-page');
  ctx.main.append(h('p', { class: 'back no-print' }, h('a', { href: '#/boxes' }, t('allBoxes'))));
  if (!box) {
    ctx.setTitle(errorText('not_found'));
    ctx.main.append(h('h1', {}, errorText('not_found')));
    return;
  }
  if (view === 'grid') renderGrid(ctx, box);
  else await renderList(ctx, box, view);
}

// --- The printable lists --------------------------------------------------------------------------

async function renderList(ctx, box, view) {
  const loading = view === 'loading';
  const title = t(loading ? 'loadingTitle' : 'retrievalTitle');
  ctx.setTitle(`${title} – ${box.name}`);
  let items, generatedAt, siteName = box.siteName;
  if (loading) {
    const data = await api('GET', `/api/v1/boxes/${box.id}/loading-list`, { signal: ctx.signal });
    items = data.items;
    generatedAt = data.generatedAt;
  } else {
    const data = await api('GET', `/api/v1/sites/${box.siteId}/retrieval-list`, { signal: ctx.signal });
    items = data.items.filter((i) => i.boxId.toLowerCase() === box.id.toLowerCase());
    generatedAt = data.generatedAt;
    siteName = data.siteName || siteName;
  }
  items = [...items].sort((a, b) => a.compartmentNumber - b.compartmentNumber);
  const stamp = fmtDateTime(generatedAt || new Date());
  const cell = (values) => (values?.length ? values.map((v, i) => [i ? h('br', {}) : null, v]) : t('common.none'));
  const done = () => h('td', { class: 'print-only done-box' });

  const head = loading
    ? [t('colCompartment'), t('colPosition'), t('colAccessible'), t('colDocuments'), t('colVns'), t('colAssigned')]
    : [t('colCompartment'), t('colReason'), t('colDeadline'), t('colLoaded'), t('colDocuments'), t('colVns')];
  const rows = items.map((i) => (loading
    ? h('tr', {},
      h('th', { scope: 'row', class: 'num' }, String(i.compartmentNumber)),
      h('td', {}, t('positionValue', { row: i.row, column: i.column })),
      h('td', {}, i.accessible ? t('common.yes') : t('common.no')),
      h('td', { class: 'mono' }, cell(i.documentNumbers)),
      h('td', { class: 'mono' }, cell(i.vorgangsnummern.map(displayVorgangsnummer))),
      h('td', {}, fmtDateTime(i.assignedAt)), done())
    : h('tr', {},
      h('th', { scope: 'row', class: 'num' }, String(i.compartmentNumber)),
      h('td', {}, t(`why.${i.reason}`)),
      h('td', {}, fmtDate(i.pickupDeadline)),
      h('td', {}, fmtDateTime(i.loadedAt)),
      h('td', { class: 'mono' }, cell(i.documentNumbers)),
      h('td', { class: 'mono' }, cell(i.vorgangsnummern.map(displayVorgangsnummer))), done())));

  ctx.main.append(...[
    subnav(box, view),
    h('h1', {}, title),
    h('p', { class: 'list-meta' }, t('listMeta', { box: box.name, site: siteName, time: stamp })),
    h('p', { class: 'no-print' }, t(loading ? 'loadingIntro' : 'retrievalIntro')),
    loading && loadingBlocked(box) ? h('div', { class: 'no-print' }, notice('warning', h('p', {}, t('loadingBlocked', { time: fmtDateTime(box.loadingBlockedUntil) })))) : null,
    h('div', { class: 'button-row' },
      h('button', { type: 'button', class: 'button', on: { click: () => window.print() } }, t('print')),
      loading ? null : h('a', { href: `/api/v1/sites/${box.siteId}/retrieval-list?format=csv`, download: 'entnahmeliste.csv' }, t('retrievalCsv'))),
    items.length
      ? h('div', { class: 'table-wrap' }, h('table', { class: 'print-list' },
        h('caption', { class: 'visually-hidden' }, `${title}: ${box.name}`),
        h('thead', {}, h('tr', {}, head.map((text, i) => h('th', { scope: 'col', class: i === 0 ? 'num' : undefined }, text)),
          h('th', { scope: 'col', class: 'print-only' }, t('colDone')))),
        h('tbody', {}, rows)))
      : h('p', { class: 'list-empty' }, t(loading ? 'loadingEmpty' : 'retrievalEmpty')),
  ].filter(Boolean));
}

// --- The grid -----------------------------------------------------------------------------------

function renderGrid(ctx, box) {
  ctx.setTitle(box.name);
  let compartments = box.compartments || [];
  const byNumber = new Map();
  const cells = new Map(); // number → button
  const at = new Map(); // "row,column" → number
  let current = null; // the selected compartment's number (focus or click)
  let previewing = false;

  const conn = connection(box);
  const counts = h('ul', { class: 'legend', 'aria-label': t('legend') });
  const updated = h('span', { class: 'muted' });
  const help = h('p', { id: 'grid-help', class: 'hint' }, t('gridHelp'));
  const grid = h('div', { class: 'compartment-grid', role: 'grid', 'aria-label': t('gridLabel', { box: box.name }), 'aria-describedby': 'grid-help' });
  const panelBody = h('div', { class: 'panel-body' });
  const status = h('div', { class: 'panel-status', role: 'status' });
  const panel = h('section', { class: 'compartment-panel', 'aria-label': t('panel') }, panelBody, status);

  ctx.main.append(...[
    subnav(box, 'grid'),
    h('h1', {}, box.name),
    h('p', { class: 'box-meta' }, t('site', { name: box.siteName }), ' · ',
      h('span', { class: ['conn', `conn-${conn.kind}`] }, conn.label), ' ', h('span', { class: 'conn-detail' }, conn.detail)),
    pickupsBlocked(box) ? notice('warning', h('p', {}, t('pickupsBlocked', { time: fmtDateTime(box.pickupsBlockedUntil) }))) : null,
    loadingBlocked(box) ? notice('warning', h('p', {}, t('loadingBlocked', { time: fmtDateTime(box.loadingBlockedUntil) }))) : null,
    counts,
    h('div', { class: 'box-tools' }, h('button', { type: 'button', class: 'button secondary', on: { click: () => refresh(true) } }, t('refresh')), updated),
    help,
    h('div', { class: 'box-layout' }, h('div', { class: 'grid-wrap' }, grid), panel)].filter(Boolean));

  function paint(c) {
    const cell = cells.get(c.number);
    const kind = kindOf(c);
    cell.className = ['cell', `cell-${kind}`, c.accessible ? 'cell-accessible' : null, c.number === current ? 'cell-current' : null].filter(Boolean).join(' ');
    // The name says it all on focus: number, state, accessibility and the Vorgangsnummern.
    cell.setAttribute('aria-label', t('cellLabel', { number: c.number, state: t(`k.${kind}`) }) + (c.accessible ? t('cellAccessible') : '')
      + c.vorgangsnummern.map((v) => `, ${displayVorgangsnummer(v)}`).join(''));
    replace(cell, h('span', { class: 'cell-number' }, String(c.number)),
      h('span', { class: 'cell-marks', 'aria-hidden': 'true' }, MARK[kind], c.accessible ? h('span', { class: 'cell-r' }, 'R') : null));
  }

  function paintCounts() {
    const n = Object.fromEntries(KINDS.map((k) => [k, 0]));
    for (const c of compartments) { const k = kindOf(c); n[k === 'occupied' ? 'loaded' : k] += 1; }
    replace(counts, KINDS.map((k) => h('li', {}, h('span', { class: ['swatch', `cell-${k}`], 'aria-hidden': 'true' }, MARK[k]), ' ', t(`k.${k}`), ' ', h('strong', {}, fmtNumber(n[k])))),
      h('li', {}, h('span', { class: 'swatch cell-free', 'aria-hidden': 'true' }, h('span', { class: 'cell-r' }, 'R')), ' ', t('accessibleMark')));
    updated.textContent = t('updated', { time: fmtDateTime(new Date()) });
  }

  /** Builds the grid once: rows as the box is built, row 1 at the top; holes stay empty. */
  function build() {
    const rows = new Map();
    let maxColumn = 1;
    for (const c of compartments) {
      byNumber.set(c.number, c);
      at.set(`${c.row},${c.column}`, c.number);
      maxColumn = Math.max(maxColumn, c.column);
      if (!rows.has(c.row)) rows.set(c.row, []);
      rows.get(c.row).push(c);
    }
    // Each row is a real box (so it keeps its row role) placed in its row of the box; its cells sit
    // in their columns, so holes stay holes.
    grid.style.setProperty('--columns', String(maxColumn));
    const ordered = [...rows.keys()].sort((a, b) => a - b);
    const first = ordered.length ? [...rows.get(ordered[0])].sort((a, b) => a.column - b.column)[0] : null;
    const rowEls = ordered.map((r) => {
      const row = h('div', { role: 'row', class: 'grid-row' }, [...rows.get(r)].sort((a, b) => a.column - b.column).map((c) => {
        const button = h('button', { type: 'button', tabindex: first && c.number === first.number ? '0' : '-1', dataset: { number: String(c.number) } });
        cells.set(c.number, button);
        const gridcell = h('div', { role: 'gridcell', class: 'gridcell' }, button);
        gridcell.style.gridColumn = String(c.column);
        return gridcell;
      }));
      row.style.gridRow = String(r);
      return row;
    });
    grid.append(...rowEls);
    for (const c of compartments) paint(c);
    paintCounts();
  }

  function detailList(c) {
    const kind = kindOf(c);
    const dl = h('dl', { class: 'summary panel-summary' },
      h('dt', {}, t('state')), h('dd', {}, h('span', { class: ['state-pill', `cell-${kind}`] }, MARK[kind] ? `${MARK[kind]} ` : '', t(`k.${kind}`))),
      h('dt', {}, t('vns')), h('dd', { class: 'mono' }, c.vorgangsnummern.length ? c.vorgangsnummern.map((v, i) => [i ? h('br', {}) : null, displayVorgangsnummer(v)]) : t('common.none')),
      h('dt', {}, t('position')), h('dd', {}, t('positionValue', { row: c.row, column: c.column })),
      h('dt', {}, t('accessible')), h('dd', {}, `${c.accessible ? t('common.yes') : t('common.no')} (${t('floor', { cm: c.floorHeightCm })})`),
      h('dt', {}, t('size')), h('dd', {}, t('sizeValue', { n: c.sizeClass })));
    if (c.state === 'blocked') {
      dl.append(h('dt', {}, t('blockReason')), h('dd', {}, t(`reason.${c.blockReason}`), c.blockNote ? ` – ${c.blockNote}` : ''));
    }
    return dl;
  }

  function showPreview(number) {
    const c = byNumber.get(number);
    if (!c) return;
    previewing = true;
    replace(panelBody, h('h2', {}, t('compartment', { number: c.number })), detailList(c), h('p', { class: 'muted' }, t('preview')));
  }

  function showSelected() {
    previewing = false;
    const c = byNumber.get(current);
    if (!c) { replace(panelBody, h('p', {}, t('pick'))); return; }
    replace(panelBody, h('h2', {}, t('compartment', { number: c.number })), detailList(c), actions(c));
  }

  function actions(c) {
    if (c.state === 'blocked') {
      return h('div', { class: 'button-row' }, h('button', { type: 'button', class: 'button', on: { click: () => unblock(c.number) } }, t('unblock')));
    }
    if (c.state !== 'available') return h('p', { class: 'muted' }, t('occupiedNoBlock'));
    const reason = field({ label: t('reason'), name: 'reason', options: ['defect', 'maintenance', 'other'].map((r) => [r, t(`reason.${r}`)]) });
    const note = field({ label: t('note'), name: 'note', hint: t('noteHint'), attrs: { maxlength: '200' } });
    const form = h('form', { class: 'block-form', novalidate: true },
      h('h3', {}, t('blockTitle')), reason.wrap, note.wrap,
      h('div', { class: 'button-row' }, h('button', { type: 'submit', class: 'button danger' }, t('block'))));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      note.setError(null);
      const text = note.input.value.trim();
      if (reason.input.value === 'other' && !text) { note.setError(t('noteMissing')); note.input.focus(); return; }
      block(c.number, { reason: reason.input.value, note: text || null }, note);
    });
    return form;
  }

  function say(kind, text) {
    replace(status, text ? h('p', { class: `panel-msg panel-msg-${kind}` }, text) : null);
  }

  function select(number) {
    if (number === current) { if (previewing) showSelected(); return; }
    const old = cells.get(current);
    if (old) { old.tabIndex = -1; old.classList.remove('cell-current'); }
    current = number;
    const cell = cells.get(number);
    cell.tabIndex = 0;
    cell.classList.add('cell-current');
    say(null, '');
    showSelected();
  }

  // Every answer that changes the grid counts up; a refresh answer older than the last change is dropped.
  let version = 0;

  function adopt(updatedCompartment) {
    version += 1;
    const i = compartments.findIndex((c) => c.number === updatedCompartment.number);
    if (i >= 0) compartments[i] = updatedCompartment;
    byNumber.set(updatedCompartment.number, updatedCompartment);
    paint(updatedCompartment);
    paintCounts();
  }

  async function block(number, body, noteField) {
    try {
      adopt(await api('POST', `/api/v1/boxes/${box.id}/compartments/${number}/block`, { body }));
      showSelected();
      cells.get(number).focus();
      say('success', t('blocked', { number }));
    } catch (e) {
      if (e instanceof ApiError && e.field === 'note') {
        noteField.setError(e.code === 'too_long' ? t('noteTooLong') : e.code === 'missing_field' ? t('noteMissing') : t('noteInvalid'));
        noteField.input.focus();
        return;
      }
      say('error', errorText(e, { codes: CODES, vars: { number } }));
      if (e instanceof ApiError && e.status === 409) { await refresh(false); cells.get(number).focus(); }
    }
  }

  async function unblock(number) {
    try {
      adopt(await api('POST', `/api/v1/boxes/${box.id}/compartments/${number}/unblock`));
      showSelected();
      cells.get(number).focus();
      say('success', t('unblocked', { number }));
    } catch (e) {
      say('error', errorText(e, { codes: CODES, vars: { number } }));
      if (e instanceof ApiError && e.status === 409) { await refresh(false); cells.get(number).focus(); }
    }
  }

  /** Reloads the box and repaints what changed; the panel only when nobody is typing in it. */
  async function refresh(announce) {
    const asked = ++version;
    let fresh;
    try { fresh = await api('GET', `/api/v1/boxes/${box.id}`, { signal: ctx.signal }); } catch (e) {
      if (e?.name !== 'AbortError' && announce) say('error', errorText(e));
      return;
    }
    // A block, an unblock or a newer refresh answered meanwhile: this answer may show the old state.
    if (asked !== version) return;
    compartments = fresh.compartments || [];
    for (const c of compartments) {
      const before = byNumber.get(c.number);
      byNumber.set(c.number, c);
      if (cells.has(c.number) && JSON.stringify(before) !== JSON.stringify(c)) paint(c);
    }
    paintCounts();
    if (!panel.contains(document.activeElement)) { if (previewing) showPreview(current); else showSelected(); }
  }

  // Focus selects; hover previews (unless the user is working in the panel); leaving restores.
  grid.addEventListener('focusin', (event) => {
    const number = Number(event.target.dataset?.number);
    if (number) select(number);
  });
  grid.addEventListener('mouseover', (event) => {
    const button = event.target.closest('button[data-number]');
    if (!button || panel.contains(document.activeElement)) return;
    const number = Number(button.dataset.number);
    if (number === current) { if (previewing) showSelected(); } else showPreview(number);
  });
  grid.addEventListener('mouseleave', () => { if (previewing) showSelected(); });
  grid.addEventListener('keydown', (event) => {
    const c = byNumber.get(Number(event.target.dataset?.number));
    if (!c) return;
    const step = { ArrowRight: [0, 1], ArrowLeft: [0, -1], ArrowDown: [1, 0], ArrowUp: [-1, 0] }[event.key];
    let target = null;
    if (step) {
      // Skip holes in the grid: keep going in the same direction up to the grid's edge.
      for (let r = c.row + step[0], col = c.column + step[1], i = 0; i < 1000 && r >= 1 && col >= 1; r += step[0], col += step[1], i += 1) {
        if (at.has(`${r},${col}`)) { target = at.get(`${r},${col}`); break; }
      }
    } else if (event.key === 'Home' || event.key === 'End') {
      const sameRow = compartments.filter((x) => (event.ctrlKey ? true : x.row === c.row)).sort((a, b) => a.row - b.row || a.column - b.column);
      target = (event.key === 'Home' ? sameRow[0] : sameRow[sameRow.length - 1])?.number;
    } else return;
    event.preventDefault();
    if (target) cells.get(target).focus();
  });

  build();
  showSelected();
  const timer = setInterval(() => refresh(false), REFRESH_MS);
  ctx.onLeave(() => clearInterval(timer));
}
