// Verwaltung › Boxen und Fächer: the boxes with their compartments and connection; for the chosen
// box (#/admin/boxes?box=<id>) its bearer token – rotated after a confirm step and shown exactly
// once, with a copy button – and a form that adds a block of compartments; and a form for a new box.

import { h, field, replace, id, formProblems, statusArea, confirmStep } from '../dom.js';
import { api } from '../api.js';
import { makeT, fmtDateTime, fmtNumber, languageName } from '../i18n.js';
import { connection, pickupsBlockedText, loadingBlockedText } from '../box-status.js';
import { CODES, adminText, busy, table, hidden } from './admin.js';

const t = makeT({
  de: {
    heading: 'Boxen',
    intro: 'Wählen Sie eine Box, um ihr Token zu erneuern oder Fächer anzulegen. Gesperrte Fächer verwalten Sie unter „Boxen“ in der Hauptnavigation.',
    name: 'Name',
    site: 'Standort',
    compartments: 'Fächer',
    counts: '{total} ({available} frei, {occupied} belegt, {blocked} gesperrt)',
    connection: 'Verbindung',
    tooManyAttempts: '(zu viele Fehlversuche)',
    tooManyRefusedScans: '(zu viele abgelehnte Dienstausweise oder unbekannte Dokumente)',
    token: 'Token',
    tokenSince: 'Ausgestellt {when}',
    noToken: 'Kein Token',
    languages: 'Sprachen des Bedienfelds',
    chosen: '(ausgewählt)',
    empty: 'Es gibt noch keine Box.',
    notFound: 'Diese Box gibt es nicht (mehr).',
    // token
    tokenHeading: 'Token der Box',
    tokenIntro: 'Mit dem Token meldet sich die Steuerung der Box am Server an. Gespeichert wird nur ein Prüfwert; das Token selbst wird einmal angezeigt.',
    issue: 'Token erzeugen',
    rotate: 'Token erneuern',
    confirmRotate: 'Neues Token für „{box}“ erzeugen?',
    confirmRotateDetail: 'Das bisherige Token funktioniert sofort nicht mehr: Die Box kann keine Aufträge abrufen und keine Abholungen prüfen, bis das neue Token in ihrer Steuerung eingetragen ist.',
    confirmRotateButton: 'Ja, neues Token erzeugen',
    newToken: 'Neues Token für „{box}“',
    tokenOnce: 'Das Token wird nur jetzt angezeigt.',
    tokenOnceDetail: 'Kopieren Sie es und tragen Sie es in der Steuerung der Box ein. Danach lässt es sich nicht mehr abrufen – nur ein neues erzeugen.',
    tokenField: 'Neues Token',
    copy: 'Kopieren',
    copied: 'Das Token ist in der Zwischenablage.',
    copyFailed: 'Kopieren hat nicht geklappt. Markieren Sie das Token und kopieren Sie es mit Strg+C.',
    hideToken: 'Fertig, Token ausblenden',
    tokenHidden: 'Das Token ist ausgeblendet. Es lässt sich nicht noch einmal anzeigen.',
    // layout
    layoutHeading: 'Fächer anlegen',
    layoutIntro: 'Legt einen Block aus Reihen × Spalten an. Nummeriert wird zeilenweise von oben links: erst nach rechts, dann die nächste Reihe darunter. Ob ein Fach barrierefrei erreichbar ist, ergibt sich aus der Höhe seines Bodens.',
    existing: 'Die Box hat {count} Fächer, Nummern bis {max}, Spalten bis {column}.',
    noCompartments: 'Die Box hat noch keine Fächer.',
    rows: 'Reihen',
    columns: 'Spalten',
    countHint: '1 bis 100, höchstens 2000 Fächer auf einmal.',
    startNumber: 'Nummer des ersten Fachs (oben links)',
    position: 'Position im Raster der Box',
    firstRow: 'Erste Reihe',
    firstColumn: 'Erste Spalte',
    positionHint: 'Wo das oberste linke Fach des Blocks sitzt. Für ein Erweiterungsmodul rechts neben den vorhandenen Fächern: Reihe 1 und die nächste freie Spalte.',
    rowsHeading: 'Reihen, von oben nach unten',
    rowsHint: 'Bodenhöhe über dem Fußboden in cm (0 bis 300): jede Reihe tiefer als die darüber. Größenklasse 1 (klein) bis 5 (groß).',
    row: 'Reihe',
    rowTop: 'Reihe {n} (oben)',
    rowBottom: 'Reihe {n} (unten)',
    rowN: 'Reihe {n}',
    height: 'Bodenhöhe in cm',
    size: 'Größenklasse',
    heightPrefix: 'Bodenhöhe in ',
    sizeShort: 'Klasse',
    fillHeading: 'Höhen gleichmäßig eintragen',
    bottomHeight: 'Bodenhöhe der untersten Reihe in cm',
    step: 'Abstand von Reihe zu Reihe in cm',
    fill: 'Höhen eintragen',
    summary: 'Legt {count} Fächer an: Nummern {first} bis {last}.',
    createLayout: 'Fächer anlegen',
    layoutCreated: '{count} Fächer angelegt (Nummern {first} bis {last}), davon {accessible} barrierefrei erreichbar.',
    'number.range': 'Bitte eine ganze Zahl von {min} bis {max} angeben.',
    'height.missing': 'Bitte die Bodenhöhe angeben (0 bis 300 cm).',
    // create
    createHeading: 'Neue Box',
    siteHint: 'Die Box übernimmt Abholzeiten und Regeln der Abholung vom Standort.',
    chooseSite: 'Bitte wählen',
    nameHint: 'Zum Beispiel „Abholbox Foyer“.',
    languagesHint: 'Zwei-Buchstaben-Codes, durch Kommas getrennt; die erste ist die Standardsprache. Zum Beispiel: de, en, tr, ar',
    create: 'Box anlegen',
    created: 'Die Box „{name}“ ist angelegt. Legen Sie jetzt ihre Fächer an und erzeugen Sie ein Token.',
    'missing.site': 'Bitte wählen Sie den Standort.',
    'missing.name': 'Bitte geben Sie den Namen der Box an.',
    noSites: 'Legen Sie zuerst einen Standort an.',
  },
  en: {
    heading: 'Boxes',
    intro: 'Choose a box to renew its token or add compartments. Blocked compartments are managed under “Boxes” in the main navigation.',
    name: 'Name',
    site: 'Site',
    compartments: 'Compartments',
    counts: '{total} ({available} free, {occupied} occupied, {blocked} blocked)',
    connection: 'Connection',
    tooManyAttempts: '(too many failed attempts)',
    tooManyRefusedScans: '(too many refused staff badges or unknown documents)',
    token: 'Token',
    tokenSince: 'Issued {when}',
    noToken: 'No token',
    languages: 'Panel languages',
    chosen: '(chosen)',
    empty: 'There is no box yet.',
    notFound: 'There is no such box (any more).',
    tokenHeading: 'The box\'s token',
    tokenIntro: 'The box\'s controller logs in to the server with the token. Only a check value is stored; the token itself is shown once.',
    issue: 'Issue token',
    rotate: 'Renew token',
    confirmRotate: 'Issue a new token for “{box}”?',
    confirmRotateDetail: 'The current token stops working at once: the box cannot fetch its assignments or check pickups until the new token is entered in its controller.',
    confirmRotateButton: 'Yes, issue a new token',
    newToken: 'New token for “{box}”',
    tokenOnce: 'The token is shown only now.',
    tokenOnceDetail: 'Copy it and enter it in the box\'s controller. It cannot be shown again afterwards – only a new one issued.',
    tokenField: 'New token',
    copy: 'Copy',
    copied: 'The token is on the clipboard.',
    copyFailed: 'Copying did not work. Select the token and copy it with Ctrl+C.',
    hideToken: 'Done, hide the token',
    tokenHidden: 'The token is hidden. It cannot be shown again.',
    layoutHeading: 'Add compartments',
    layoutIntro: 'Adds a block of rows × columns. Numbering runs row by row from the top left: to the right first, then the next row down. Whether a compartment is accessible follows from the height of its floor.',
    existing: 'The box has {count} compartments, numbers up to {max}, columns up to {column}.',
    noCompartments: 'The box has no compartments yet.',
    rows: 'Rows',
    columns: 'Columns',
    countHint: '1 to 100, at most 2000 compartments at once.',
    startNumber: 'Number of the first compartment (top left)',
    position: 'Position in the box\'s grid',
    firstRow: 'First row',
    firstColumn: 'First column',
    positionHint: 'Where the block\'s top-left compartment sits. For an extension module to the right of the existing compartments: row 1 and the next free column.',
    rowsHeading: 'Rows, from top to bottom',
    rowsHint: 'Floor height above the ground in cm (0 to 300): each row lower than the one above. Size class 1 (small) to 5 (large).',
    row: 'Row',
    rowTop: 'Row {n} (top)',
    rowBottom: 'Row {n} (bottom)',
    rowN: 'Row {n}',
    height: 'Floor height in cm',
    size: 'Size class',
    heightPrefix: 'floor height in ',
    sizeShort: 'Class',
    fillHeading: 'Fill in even heights',
    bottomHeight: 'Floor height of the bottom row in cm',
    step: 'Distance from row to row in cm',
    fill: 'Fill in heights',
    summary: 'Adds {count} compartments: numbers {first} to {last}.',
    createLayout: 'Add compartments',
    layoutCreated: '{count} compartments added (numbers {first} to {last}), {accessible} of them accessible.',
    'number.range': 'Please give a whole number from {min} to {max}.',
    'height.missing': 'Please give the floor height (0 to 300 cm).',
    createHeading: 'New box',
    siteHint: 'The box takes pickup hours and pickup rules from its site.',
    chooseSite: 'Please choose',
    nameHint: 'For example “Abholbox Foyer”.',
    languagesHint: 'Two-letter codes separated by commas; the first is the default. For example: de, en, tr, ar',
    create: 'Create box',
    created: 'The box “{name}” is created. Now add its compartments and issue a token.',
    'missing.site': 'Please choose the site.',
    'missing.name': 'Please give the box\'s name.',
    noSites: 'Create a site first.',
  },
});

/** A notice for the next drawing of this tab (a new box is shown right after it was created). */
let flash = null;

const sameId = (a, b) => Boolean(a && b) && a.toLowerCase() === b.toLowerCase();

function connectionCell(box) {
  const conn = connection(box);
  const blocked = pickupsBlockedText(box);
  const loading = loadingBlockedText(box);
  return [`${conn.label} – ${conn.detail}`,
    blocked ? [h('br', {}), h('strong', { class: 'warning-text' }, `${blocked} ${t('tooManyAttempts')}`)] : null,
    loading ? [h('br', {}), h('strong', { class: 'warning-text' }, `${loading} ${t('tooManyRefusedScans')}`)] : null];
}

const counts = (box) => t('counts', {
  total: fmtNumber(box.compartmentCounts.total), available: fmtNumber(box.compartmentCounts.available),
  occupied: fmtNumber(box.compartmentCounts.occupied), blocked: fmtNumber(box.compartmentCounts.blocked),
});
const tokenState = (box) => (box.hasToken ? t('tokenSince', { when: fmtDateTime(box.tokenCreatedAt) }) : t('noToken'));

export async function render(ctx, panel) {
  const status = statusArea();
  const chosenId = ctx.query.get('box');
  let [boxes, sites] = await Promise.all([
    api('GET', '/api/v1/boxes', { signal: ctx.signal }),
    api('GET', '/api/v1/sites', { signal: ctx.signal }),
  ]);
  const listWrap = h('div', {});
  const chosenWrap = h('div', {});

  function drawList() {
    if (!boxes.length) { replace(listWrap, h('p', {}, t('empty'))); return; }
    replace(listWrap, table(null, [t('name'), t('site'), t('compartments'), t('connection'), t('token')], boxes.map((box) => {
      const chosen = sameId(box.id, chosenId);
      return h('tr', { class: chosen ? 'is-chosen' : undefined },
        h('td', {}, h('a', { href: `#/admin/boxes?box=${encodeURIComponent(box.id)}`, 'aria-current': chosen ? 'true' : undefined }, box.name),
          chosen ? [' ', h('span', { class: 'muted' }, t('chosen'))] : null),
        h('td', {}, box.siteName),
        h('td', {}, counts(box)),
        h('td', {}, connectionCell(box)),
        h('td', {}, tokenState(box)));
    })));
  }

  async function refresh() {
    boxes = await api('GET', '/api/v1/boxes', { signal: ctx.signal });
    drawList();
    return boxes.find((b) => sameId(b.id, chosenId));
  }

  drawList();
  panel.append(h('h2', {}, t('heading')), h('p', {}, t('intro')), status.el, listWrap, chosenWrap,
    createForm(ctx, sites, (box) => {
      flash = t('created', { name: box.name });
      ctx.navigate(`/admin/boxes?box=${box.id}`);
    }));
  if (flash) { status.say('success', flash); flash = null; }

  if (!chosenId) return;
  if (!boxes.some((b) => sameId(b.id, chosenId))) {
    replace(chosenWrap, h('div', { class: 'notice notice-warning' }, h('p', {}, t('notFound'))));
    return;
  }
  const box = await api('GET', `/api/v1/boxes/${encodeURIComponent(chosenId)}`, { signal: ctx.signal });
  const headingId = id('box');
  const heading = h('h2', { tabindex: '-1', id: headingId }, box.name);
  const tokenDd = h('dd', {}, tokenState(box));
  const countsDd = h('dd', {}, counts(box));
  replace(chosenWrap, h('section', { class: 'admin-box', 'aria-labelledby': headingId },
    heading,
    h('dl', { class: 'summary' },
      h('dt', {}, t('site')), h('dd', {}, box.siteName),
      h('dt', {}, t('languages')), h('dd', {}, box.panelLanguages.map((code) => `${languageName(code)} (${code})`).join(', ')),
      h('dt', {}, t('compartments')), countsDd,
      h('dt', {}, t('token')), tokenDd),
    tokenSection(box, async () => { const fresh = await refresh(); if (fresh) replace(tokenDd, tokenState(fresh)); return fresh; }),
    layoutForm(box, async () => { const fresh = await refresh(); if (fresh) replace(countsDd, counts(fresh)); })));
  heading.focus();
}

function tokenSection(box, refresh) {
  const status = statusArea();
  const confirmWrap = h('div', { class: 'admin-action', hidden: true });
  const result = h('div', {});
  let hasToken = box.hasToken;
  const button = h('button', { type: 'button', class: 'button secondary' });
  const label = () => replace(button, hasToken ? t('rotate') : t('issue'));
  label();

  function showToken(issued) {
    const headingId = id('token');
    const fieldId = id('token-value');
    const copyStatus = statusArea();
    const input = h('input', { id: fieldId, type: 'text', class: 'mono token-value', readonly: true, value: issued.token, autocomplete: 'off', spellcheck: 'false' });
    const heading = h('h4', { id: headingId, tabindex: '-1' }, t('newToken', { box: box.name }));
    const copy = h('button', { type: 'button', class: 'button', on: { click: async () => {
      try {
        await navigator.clipboard.writeText(input.value);
        copyStatus.say('success', t('copied'));
      } catch {
        input.focus();
        input.select();
        copyStatus.say('warning', t('copyFailed'));
      }
    } } }, t('copy'));
    const hide = h('button', { type: 'button', class: 'button secondary', on: { click: () => {
      result.replaceChildren();
      status.say('info', t('tokenHidden'));
      button.focus();
    } } }, t('hideToken'));
    input.addEventListener('focus', () => input.select());
    replace(result, h('section', { class: 'token-once', 'aria-labelledby': headingId },
      heading,
      h('p', {}, h('strong', {}, t('tokenOnce')), ' ', t('tokenOnceDetail')),
      h('div', { class: 'field' }, h('label', { for: fieldId }, t('tokenField')), input),
      h('div', { class: 'button-row' }, copy, hide),
      copyStatus.el));
    heading.focus();
  }

  button.addEventListener('click', async () => {
    status.clear();
    result.replaceChildren();
    if (hasToken) {
      const ok = await confirmStep(confirmWrap, {
        question: t('confirmRotate', { box: box.name }),
        detail: t('confirmRotateDetail'),
        confirm: t('confirmRotateButton'),
      });
      if (!ok) return;
    }
    await busy(button, async () => {
      try {
        const issued = await api('POST', `/api/v1/boxes/${box.id}/token`);
        hasToken = true;
        label();
        showToken(issued);
        await refresh();
      } catch (e) {
        if (e.name === 'AbortError') return;
        status.say('error', adminText(e));
      }
    });
  });

  return h('section', { class: 'admin-subsection' },
    h('h3', {}, t('tokenHeading')),
    h('p', {}, t('tokenIntro')),
    h('div', { class: 'button-row' }, button),
    confirmWrap, result, status.el);
}

/**
 * A field in a table cell: a short visible label ("cm", "Klasse") whose hidden prefix names the row
 * for screen readers ("Reihe 1 (oben): Bodenhöhe in cm"); the error text sits below it.
 */
function cellField(input, prefix, text, labelAfter) {
  const fid = id('cell');
  input.id = fid;
  const error = h('p', { class: 'field-error', id: `${fid}-error`, hidden: true });
  const label = h('label', { for: fid, class: 'cell-label' }, hidden(prefix), text);
  const wrap = h('div', { class: 'cell-field' }, error, h('span', { class: 'cell-control' }, labelAfter ? [input, label] : [label, input]));
  return {
    wrap, input, label,
    setError(message) {
      error.textContent = message || '';
      error.hidden = !message;
      if (message) { input.setAttribute('aria-invalid', 'true'); input.setAttribute('aria-describedby', error.id); }
      else { input.removeAttribute('aria-invalid'); input.removeAttribute('aria-describedby'); }
    },
  };
}

/** A whole number in [min, max] from a text field, or null. */
function intIn(text, min, max) {
  if (!/^\d{1,5}$/.test(text.trim())) return null;
  const n = Number(text.trim());
  return n >= min && n <= max ? n : null;
}

function layoutForm(box, refresh) {
  const problems = formProblems({ codes: CODES });
  const status = statusArea();
  let compartments = box.compartments || [];
  const maxOf = (key) => compartments.reduce((m, c) => Math.max(m, c[key]), 0);
  const existing = h('p', {});
  const describeExisting = () => replace(existing, compartments.length
    ? t('existing', { count: fmtNumber(compartments.length), max: maxOf('number'), column: maxOf('column') })
    : t('noCompartments'));
  describeExisting();

  const num = (label, name, value, hint) => field({ label, name, hint, value: String(value), autocomplete: 'off', inputmode: 'numeric', attrs: { class: 'short', maxlength: '5' } });
  const rows = num(t('rows'), 'rows', 4, t('countHint'));
  const columns = num(t('columns'), 'columns', 6, t('countHint'));
  const startNumber = num(t('startNumber'), 'startNumber', maxOf('number') + 1);
  const firstRow = num(t('firstRow'), 'firstRow', 1);
  const firstColumn = num(t('firstColumn'), 'firstColumn', maxOf('column') + 1);
  const positionHintId = id('position-hint');
  const summary = h('p', { class: 'layout-summary' });
  const rowsBody = h('tbody', {});
  let perRow = []; // [{height, size, name}]

  const rowName = (i, n) => (i === 0 ? t('rowTop', { n: 1 }) : i === n - 1 ? t('rowBottom', { n: i + 1 }) : t('rowN', { n: i + 1 }));

  function drawRows() {
    const n = intIn(rows.input.value, 1, 100);
    if (!n || n === perRow.length) return;
    const kept = perRow.map((r) => ({ height: r.height.input.value, size: r.size.input.value }));
    rowsBody.replaceChildren();
    perRow = [];
    for (let i = 0; i < n; i += 1) {
      const name = rowName(i, n);
      const height = cellField(h('input', { type: 'text', value: kept[i]?.height ?? '', autocomplete: 'off', inputmode: 'numeric', maxlength: '3', class: 'cm' }),
        `${name}: ${t('heightPrefix')}`, 'cm', true);
      const size = cellField(h('select', {}, [1, 2, 3, 4, 5].map((v) => h('option', { value: String(v), selected: String(v) === (kept[i]?.size ?? '1') }, String(v)))),
        `${name}: `, t('sizeShort'), false);
      rowsBody.append(h('tr', {}, h('th', { scope: 'row' }, name), h('td', {}, height.wrap), h('td', {}, size.wrap)));
      perRow.push({ height, size, name });
    }
  }

  function describe() {
    const r = intIn(rows.input.value, 1, 100), c = intIn(columns.input.value, 1, 100), s = intIn(startNumber.input.value, 1, 10000);
    summary.textContent = r && c && s ? t('summary', { count: fmtNumber(r * c), first: s, last: s + r * c - 1 }) : '';
  }

  // Even heights: the bottom row at `bottom`, each row above `step` higher.
  const bottom = num(t('bottomHeight'), 'bottomHeight', 40);
  const step = num(t('step'), 'step', 30);
  const fill = h('button', { type: 'button', class: 'button secondary', on: { click: () => {
    const b = intIn(bottom.input.value, 0, 300) ?? 0, s = intIn(step.input.value, 0, 300) ?? 0;
    perRow.forEach((r, i) => { r.height.input.value = String(b + (perRow.length - 1 - i) * s); });
    perRow[0]?.height.input.focus();
  } } }, t('fill'));

  rows.input.addEventListener('input', () => { drawRows(); describe(); });
  columns.input.addEventListener('input', describe);
  startNumber.input.addEventListener('input', describe);
  drawRows();
  describe();

  const submit = h('button', { type: 'submit', class: 'button' }, t('createLayout'));
  const form = h('form', { novalidate: true, class: 'admin-form layout-form' },
    h('h3', {}, t('layoutHeading')),
    h('p', {}, t('layoutIntro')),
    existing,
    problems.summary,
    h('div', { class: 'inline-fields' }, rows.wrap, columns.wrap),
    startNumber.wrap,
    h('fieldset', { 'aria-describedby': positionHintId },
      h('legend', {}, t('position')),
      h('p', { class: 'hint', id: positionHintId }, t('positionHint')),
      h('div', { class: 'inline-fields' }, firstRow.wrap, firstColumn.wrap)),
    h('fieldset', { class: 'row-heights' },
      h('legend', {}, t('rowsHeading')),
      h('p', { class: 'hint' }, t('rowsHint')),
      h('details', { class: 'fill-heights' }, h('summary', {}, t('fillHeading')),
        h('div', { class: 'inline-fields' }, bottom.wrap, step.wrap), h('div', { class: 'button-row' }, fill)),
      h('div', { class: 'table-wrap' }, h('table', { class: 'rows-table' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('row')), h('th', { scope: 'col' }, t('height')), h('th', { scope: 'col' }, t('size')))),
        rowsBody))),
    summary,
    h('div', { class: 'button-row' }, submit),
    status.el);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    status.clear();
    const list = [];
    const read = (f, min, max) => {
      const v = intIn(f.input.value, min, max);
      if (v === null) list.push({ field: f, message: t('number.range', { min, max }) });
      return v;
    };
    const body = { rows: read(rows, 1, 100), columns: read(columns, 1, 100) };
    body.startNumber = read(startNumber, 1, 10000);
    body.firstRow = read(firstRow, 1, 1000);
    body.firstColumn = read(firstColumn, 1, 1000);
    body.rowHeightsCm = perRow.map((r) => {
      const v = intIn(r.height.input.value, 0, 300);
      if (v === null) list.push({ field: r.height, message: `${r.name}: ${t('height.missing')}` });
      return v;
    });
    body.sizeClasses = perRow.map((r) => Number(r.size.input.value));
    body.rowHeightsCm.forEach((v, i) => {
      if (i > 0 && v !== null && body.rowHeightsCm[i - 1] !== null && v >= body.rowHeightsCm[i - 1]) {
        list.push({ field: perRow[i].height, message: `${perRow[i].name}: ${adminText('row_heights_not_descending')}` });
      }
    });
    if (!list.length) {
      // The grid is known: name a taken number or position before the server has to refuse it.
      const last = body.startNumber + body.rows * body.columns - 1;
      const taken = compartments.filter((c) => c.number >= body.startNumber && c.number <= last).map((c) => c.number);
      const overlaps = compartments.some((c) => c.row >= body.firstRow && c.row < body.firstRow + body.rows
        && c.column >= body.firstColumn && c.column < body.firstColumn + body.columns);
      if (taken.length) list.push({ field: startNumber, message: adminText('compartment_numbers_taken', { firstTakenNumber: Math.min(...taken) }) });
      else if (overlaps) list.push({ field: firstRow, message: adminText('compartment_positions_taken') });
    }
    if (list.length) { problems.show(list); return; }
    busy(submit, async () => {
      try {
        const updated = await api('POST', `/api/v1/boxes/${box.id}/compartments`, { body });
        problems.clear();
        const last = body.startNumber + body.rows * body.columns - 1;
        const added = updated.compartments.filter((c) => c.number >= body.startNumber && c.number <= last);
        compartments = updated.compartments;
        describeExisting();
        startNumber.input.value = String(maxOf('number') + 1);
        firstColumn.input.value = String(maxOf('column') + 1);
        describe();
        await refresh();
        status.say('success', t('layoutCreated', { count: fmtNumber(added.length), first: body.startNumber, last, accessible: fmtNumber(added.filter((c) => c.accessible).length) }));
      } catch (e) {
        if (e.name === 'AbortError') return;
        const fields = { rows, columns, startNumber, firstRow, firstColumn };
        problems.fromApi(e, (name) => {
          const m = /^(rowHeightsCm|sizeClasses)\[(\d+)\]$/.exec(name);
          if (m) return perRow[Number(m[2])]?.[m[1] === 'rowHeightsCm' ? 'height' : 'size'] || null;
          if (name === 'rowHeightsCm') return perRow[0]?.height || null;
          if (name === 'sizeClasses' || name === 'sizeClass') return perRow[0]?.size || null;
          return fields[name] || null;
        });
      }
    });
  });
  return form;
}

function createForm(ctx, sites, created) {
  const problems = formProblems({ codes: CODES });
  if (!sites.length) return h('section', {}, h('h2', {}, t('createHeading')), h('p', {}, t('noSites'), ' ', h('a', { href: '#/admin/sites' }, t('site'))));
  const site = field({ label: t('site'), name: 'siteId', hint: t('siteHint'), value: sites.length === 1 ? sites[0].id : '',
    options: [...(sites.length === 1 ? [] : [['', t('chooseSite')]]), ...sites.map((s) => [s.id, s.name])] });
  const name = field({ label: t('name'), name: 'name', hint: t('nameHint'), autocomplete: 'off', attrs: { maxlength: '100' } });
  const languages = field({ label: t('languages'), name: 'panelLanguages', hint: t('languagesHint'), value: 'de, en', autocomplete: 'off',
    attrs: { spellcheck: 'false', autocapitalize: 'none' } });
  const submit = h('button', { type: 'submit', class: 'button' }, t('create'));
  const form = h('form', { novalidate: true, class: 'admin-form' },
    h('h2', {}, t('createHeading')),
    problems.summary, site.wrap, name.wrap, languages.wrap, h('div', { class: 'button-row' }, submit));
  const kept = ctx.keepForm(form, 'create-box');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = {
      siteId: site.input.value,
      name: name.input.value.trim(),
      panelLanguages: languages.input.value.toLowerCase().split(/[\s,;]+/).filter(Boolean),
    };
    const list = [];
    if (!body.siteId) list.push({ field: site, message: t('missing.site') });
    if (!body.name) list.push({ field: name, message: t('missing.name') });
    if (!body.panelLanguages.length || body.panelLanguages.some((l) => !/^[a-z]{2}$/.test(l))) list.push({ field: languages, message: adminText('invalid_language') });
    else if (new Set(body.panelLanguages).size !== body.panelLanguages.length) list.push({ field: languages, message: adminText('duplicate_language') });
    if (list.length) { problems.show(list); return; }
    busy(submit, async () => {
      try {
        const box = await api('POST', '/api/v1/boxes', { body });
        kept.clear();
        created(box);
      } catch (e) {
        if (e.name === 'AbortError') return;
        problems.fromApi(e, (n) => (n === 'siteId' ? site : n === 'name' ? name : n.startsWith('panelLanguages') ? languages : null));
      }
    });
  });
  return form;
}
