// The start page (#/): today's figures and what needs doing (each a link to the matching list),
// the boxes with their state and occupancy, each box's capacity forecast for the next 14 days in
// words and as a chart, and the statistics of the last 30 days as charts (charts.js) with their
// numbers as tables. Refreshes every minute while open, keeping focus and open tables in place.

import { h, replace, notice } from '../dom.js';
import { api, ApiError } from '../api.js';
import { makeT, fmtDate, fmtDateTime, fmtNumber, fmtDecimal, fmtPercent, fmtDayShort } from '../i18n.js';
import { barChart, lineChart, legend, dataTable, seriesStyle } from '../charts.js';
import { connection, pickupsBlockedText, loadingBlockedText } from '../box-status.js';

export const css = true;

const REFRESH_MS = 60_000;

const t = makeT({
  de: {
    title: 'Übersicht',
    asOf: 'Stand: {time}. Die Zahlen werden jede Minute aktualisiert.',
    refresh: 'Zahlen jetzt aktualisieren',
    updated: 'Die Zahlen sind aktualisiert, Stand: {time}.',
    refreshFailed: 'Die Zahlen konnten nicht aktualisiert werden. Angezeigt ist der Stand von {time}.',
    loadFailed: 'Die Übersicht konnte nicht geladen werden.',
    today: 'Heute, {date}',
    'count.deliveredToday': 'Dokumente geliefert',
    'count.loadedToday': 'Fächer beladen',
    'count.collectedToday': 'Abgeholt',
    'count.expiringToday': 'Abholfrist endet heute',
    attention: 'Zu erledigen',
    'attention.contactRequired': 'Kontakt nötig',
    'attention.contactRequired.hint': 'SMS mit der PIN kam nicht an',
    'attention.lockedAssignments': 'PIN gesperrt',
    'attention.lockedAssignments.hint': 'Nach zu vielen falschen PINs; neue PIN senden',
    'attention.retrievalDue': 'Aus der Box zu entnehmen',
    'attention.retrievalDue.hint': 'Abholfrist abgelaufen',
    'attention.faultsLast24Hours': 'Störungen an Boxen',
    'attention.faultsLast24Hours.hint': 'In den letzten 24 Stunden',
    'attention.smsFailedLast24Hours': 'SMS nicht zugestellt',
    'attention.smsFailedLast24Hours.hint': 'In den letzten 24 Stunden',
    'attention.waitingForCompartment': 'Warten auf ein Fach',
    'attention.waitingForCompartment.hint': 'Geliefert, noch kein Fach',
    nothingToDo: 'Nichts zu tun',
    toDo: 'Bitte bearbeiten',
    boxes: 'Boxen',
    noBoxes: 'Ihre Behörde hat noch keine Box.',
    'col.box': 'Box',
    'col.site': 'Standort',
    'col.state': 'Zustand',
    'col.occupied': 'Belegt',
    'col.available': 'Frei',
    'col.blocked': 'Gesperrt',
    'col.usage': 'Auslastung',
    usage: '{occupied} von {total} Fächern belegt',
    forecast: 'Kapazität der nächsten 14 Tage',
    fullOn: '{name} läuft voraussichtlich am {date} voll.',
    enough: '{name} reicht die nächsten 14 Tage.',
    forecastFailed: 'Die Vorhersage für {name} konnte nicht geladen werden.',
    forecastBasis: 'Grundlage: {inProduction} Anträge in Produktion, im Median {delivery} Tage bis zur Lieferung und {pickup} Tage bis zur Abholung ({observed} beobachtete Abholungen).',
    forecastAssumed: 'Annahme: {inProduction} Anträge in Produktion, {delivery} Tage bis zur Lieferung und {pickup} Tage bis zur Abholung (noch keine Abholungen beobachtet).',
    forecastNoCompartments: '{name} hat noch keine Fächer.',
    forecastAllBlocked: '{name} hat kein nutzbares Fach: Alle Fächer sind gesperrt.',
    forecastChart: 'Vorhersage für {name}: heute {now} von {capacity} Fächern belegt, in 14 Tagen erwartet {last}. {sentence}',
    forecastTable: 'Vorhersage für {name} als Tabelle',
    forecastCaption: 'Erwartete Belegung von {name} (Kapazität {capacity} Fächer)',
    expectedOccupied: 'Erwartet belegt',
    expectedArrivals: 'Erwartete Beladungen',
    expectedPickups: 'Erwartete Abholungen',
    capacity: 'Kapazität {capacity}',
    capacityLegend: 'Kapazität (alle Fächer)',
    now: 'heute',
    full: 'voll',
    statistics: 'Die letzten 30 Tage',
    pickupsPerDay: 'Abholungen pro Tag',
    pickupsPerDayLabel: 'Abholungen pro Tag vom {from} bis {to}: zusammen {total}, höchstens {max} an einem Tag, heute {today}.',
    pickupsPerDayTable: 'Abholungen pro Tag als Tabelle',
    pickupsOn: '{date}: {count} Abholungen',
    date: 'Datum',
    pickups: 'Abholungen',
    daysToPickup: 'Tage von der Lieferung bis zur Abholung',
    daysToPickupLabel: 'Tage von der Lieferung bis zur Abholung: {total} Abholungen, am häufigsten nach {mode} Tagen.',
    daysToPickupNone: 'Tage von der Lieferung bis zur Abholung: noch keine Abholungen.',
    daysToPickupTable: 'Tage bis zur Abholung als Tabelle',
    days: 'Tage',
    daysValue: '{days}',
    daysOrMore: '{days} oder mehr',
    daysTooltip: '{count} Abholungen nach {days} Tagen',
    occupancy: 'Belegung der Boxen',
    occupancyLabel: 'Belegte Fächer pro Tag vom {from} bis {to}: {boxes}.',
    occupancyOne: '{name} heute {now} von {capacity} (höchstens {max})',
    occupancyTable: 'Belegung der Boxen als Tabelle',
    occupancyCaption: 'Belegte Fächer am Ende jedes Tages',
    occupiedCompartments: 'belegte Fächer',
  },
  en: {
    title: 'Dashboard',
    asOf: 'As of {time}. The figures are updated every minute.',
    refresh: 'Update figures now',
    updated: 'The figures are updated, as of {time}.',
    refreshFailed: 'The figures could not be updated. Shown are those of {time}.',
    loadFailed: 'The dashboard could not be loaded.',
    today: 'Today, {date}',
    'count.deliveredToday': 'Documents delivered',
    'count.loadedToday': 'Compartments loaded',
    'count.collectedToday': 'Collected',
    'count.expiringToday': 'Pickup deadline ends today',
    attention: 'To do',
    'attention.contactRequired': 'Contact required',
    'attention.contactRequired.hint': 'The SMS with the PIN did not arrive',
    'attention.lockedAssignments': 'PIN locked',
    'attention.lockedAssignments.hint': 'After too many wrong PINs; send a new PIN',
    'attention.retrievalDue': 'To be taken out of the box',
    'attention.retrievalDue.hint': 'Pickup deadline passed',
    'attention.faultsLast24Hours': 'Box faults',
    'attention.faultsLast24Hours.hint': 'In the last 24 hours',
    'attention.smsFailedLast24Hours': 'SMS not delivered',
    'attention.smsFailedLast24Hours.hint': 'In the last 24 hours',
    'attention.waitingForCompartment': 'Waiting for a compartment',
    'attention.waitingForCompartment.hint': 'Delivered, no compartment yet',
    nothingToDo: 'Nothing to do',
    toDo: 'Please deal with it',
    boxes: 'Boxes',
    noBoxes: 'Your authority has no box yet.',
    'col.box': 'Box',
    'col.site': 'Site',
    'col.state': 'State',
    'col.occupied': 'Occupied',
    'col.available': 'Free',
    'col.blocked': 'Blocked',
    'col.usage': 'Usage',
    usage: '{occupied} of {total} compartments occupied',
    forecast: 'Capacity for the next 14 days',
    fullOn: '{name} is expected to be full on {date}.',
    enough: '{name} has enough room for the next 14 days.',
    forecastFailed: 'The forecast for {name} could not be loaded.',
    forecastBasis: 'Based on {inProduction} applications in production, a median of {delivery} days to delivery and {pickup} days to pickup ({observed} pickups observed).',
    forecastAssumed: 'Assumed: {inProduction} applications in production, {delivery} days to delivery and {pickup} days to pickup (no pickups observed yet).',
    forecastNoCompartments: '{name} has no compartments yet.',
    forecastAllBlocked: '{name} has no usable compartment: all compartments are blocked.',
    forecastChart: 'Forecast for {name}: {now} of {capacity} compartments occupied today, {last} expected in 14 days. {sentence}',
    forecastTable: 'Forecast for {name} as a table',
    forecastCaption: 'Expected occupancy of {name} (capacity {capacity} compartments)',
    expectedOccupied: 'Expected occupied',
    expectedArrivals: 'Expected loads',
    expectedPickups: 'Expected pickups',
    capacity: 'Capacity {capacity}',
    capacityLegend: 'Capacity (all compartments)',
    now: 'today',
    full: 'full',
    statistics: 'The last 30 days',
    pickupsPerDay: 'Pickups per day',
    pickupsPerDayLabel: 'Pickups per day from {from} to {to}: {total} in all, at most {max} on one day, {today} today.',
    pickupsPerDayTable: 'Pickups per day as a table',
    pickupsOn: '{date}: {count} pickups',
    date: 'Date',
    pickups: 'Pickups',
    daysToPickup: 'Days from delivery to pickup',
    daysToPickupLabel: 'Days from delivery to pickup: {total} pickups, most often after {mode} days.',
    daysToPickupNone: 'Days from delivery to pickup: no pickups yet.',
    daysToPickupTable: 'Days to pickup as a table',
    days: 'Days',
    daysValue: '{days}',
    daysOrMore: '{days} or more',
    daysTooltip: '{count} pickups after {days} days',
    occupancy: 'Occupancy of the boxes',
    occupancyLabel: 'Occupied compartments per day from {from} to {to}: {boxes}.',
    occupancyOne: '{name} {now} of {capacity} today (at most {max})',
    occupancyTable: 'Occupancy of the boxes as a table',
    occupancyCaption: 'Occupied compartments at the end of each day',
    occupiedCompartments: 'occupied compartments',
  },
});

const num = (n) => fmtNumber(n);

/** Where each figure leads: the list of exactly the applications behind it (`today` is the server's day). */
function target(key, today) {
  switch (key) {
    case 'deliveredToday': return `#/search?deliveredOn=${today}`;
    case 'loadedToday': return `#/search?loadedOn=${today}`;
    case 'collectedToday': return `#/search?collectedOn=${today}`;
    case 'expiringToday': return `#/search?state=ready_in_box&pickupDeadline=${today}`;
    case 'lockedAssignments': return '#/search?locked=true';
    // A failed "ready" SMS marks its application "contact required".
    case 'contactRequired': case 'smsFailedLast24Hours': return '#/search?contactRequired=true';
    case 'retrievalDue': return '#/search?state=retrieval_due';
    case 'waitingForCompartment': return '#/search?state=delivered';
    case 'faultsLast24Hours': return '#/boxes';
    default: return '#/search';
  }
}

function card(key, value, { attention = false, href } = {}) {
  const urgent = attention && value > 0;
  return h('li', { class: ['card', 'dash-card', attention && 'dash-attention', urgent && 'dash-urgent'] },
    h('a', { href, class: 'dash-card-link', dataset: { key: `card-${key}` } },
      h('span', { class: 'figure' }, num(value)), ' ',
      h('span', { class: 'dash-card-label' }, t(`${attention ? 'attention' : 'count'}.${key}`))),
    attention ? h('p', { class: 'dash-card-hint' }, urgent ? t(`attention.${key}.hint`) : t('nothingToDo')) : null);
}

function todaySection(data) {
  const keys = ['deliveredToday', 'loadedToday', 'collectedToday', 'expiringToday'];
  return h('section', { 'aria-labelledby': 'dash-today' },
    h('h2', { id: 'dash-today' }, t('today', { date: fmtDate(data.today) })),
    h('ul', { class: 'cards dash-cards dash-cards-today' }, keys.map((k) => card(k, data.counts?.[k] ?? 0, { href: target(k, data.today) }))));
}

function attentionSection(data) {
  const keys = ['contactRequired', 'lockedAssignments', 'retrievalDue', 'faultsLast24Hours', 'smsFailedLast24Hours', 'waitingForCompartment'];
  return h('section', { 'aria-labelledby': 'dash-attention' },
    h('h2', { id: 'dash-attention' }, t('attention')),
    h('ul', { class: 'cards dash-cards dash-cards-attention' }, keys.map((k) => card(k, data.attention?.[k] ?? 0, { attention: true, href: target(k, data.today) }))));
}

function boxState(box) {
  const conn = connection(box);
  const blocked = [pickupsBlockedText(box), loadingBlockedText(box)].filter(Boolean);
  return [
    h('span', { class: `badge dash-${conn.kind}` }, conn.label),
    // Online says it all; offline says since when.
    conn.kind === 'offline' ? [' ', h('span', { class: 'dash-seen' }, conn.detail)] : null,
    blocked.map((text) => [h('br'), h('span', { class: 'badge dash-blocked' }, text)]),
  ];
}

function usageBar(c) {
  const total = c.total || 0;
  const share = total ? Math.min(1, (c.occupied || 0) / total) : 0;
  const fill = h('span', { class: ['dash-bar-fill', share >= 0.9 && 'dash-bar-high'] });
  // A width from a module is allowed by the CSP (no style attribute in markup).
  fill.style.width = `${(share * 100).toFixed(1)}%`;
  return h('div', { class: 'dash-usage', title: t('usage', { occupied: num(c.occupied), total: num(total) }) },
    h('span', { class: 'dash-bar', 'aria-hidden': 'true' }, fill),
    h('span', { class: 'dash-usage-text' }, fmtPercent(c.occupied, total)));
}

function boxesSection(data) {
  const boxes = data.boxes || [];
  return h('section', { 'aria-labelledby': 'dash-boxes' },
    h('h2', { id: 'dash-boxes' }, t('boxes')),
    boxes.length === 0 ? h('p', {}, t('noBoxes')) : h('div', { class: 'table-wrap' },
      h('table', { class: 'dash-boxes' },
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, t('col.box')), h('th', { scope: 'col' }, t('col.site')), h('th', { scope: 'col' }, t('col.state')),
          h('th', { scope: 'col', class: 'num' }, t('col.occupied')), h('th', { scope: 'col', class: 'num' }, t('col.available')),
          h('th', { scope: 'col', class: 'num' }, t('col.blocked')), h('th', { scope: 'col' }, t('col.usage')))),
        h('tbody', {}, boxes.map((box) => {
          const c = box.compartments || { total: 0, available: 0, occupied: 0, blocked: 0 };
          return h('tr', {},
            h('th', { scope: 'row' }, h('a', { href: `#/boxes/${box.id}`, dataset: { key: `box-${box.id}` } }, box.name)),
            h('td', { 'data-label': t('col.site') }, box.siteName),
            h('td', { 'data-label': t('col.state') }, boxState(box)),
            h('td', { class: 'num', 'data-label': t('col.occupied') }, num(c.occupied)),
            h('td', { class: 'num', 'data-label': t('col.available') }, num(c.available)),
            h('td', { class: 'num', 'data-label': t('col.blocked') }, num(c.blocked)),
            h('td', { 'data-label': t('col.usage') }, usageBar(c)));
        })))));
}

function forecastSentence(f, name) {
  return f.fullOn ? t('fullOn', { name, date: fmtDate(f.fullOn) }) : t('enough', { name });
}

function forecastBlock(box, f, today) {
  const name = f?.name || box.name;
  if (!f) {
    return h('div', { class: 'dash-forecast' }, h('h3', {}, name), notice('warning', h('p', {}, t('forecastFailed', { name }))));
  }
  // Without a usable compartment there is nothing to fill: no forecast, no chart.
  if (!f.capacity) {
    const none = !(box.compartments?.total > 0);
    return h('div', { class: 'dash-forecast' }, h('h3', {}, name),
      h('p', { class: 'dash-sentence' }, t(none ? 'forecastNoCompartments' : 'forecastAllBlocked', { name })));
  }
  const days = f.days || [];
  const sentence = forecastSentence(f, name);
  const labels = [fmtDayShort(today), ...days.map((d) => fmtDayShort(d.date))];
  const values = [f.occupiedNow, ...days.map((d) => d.expectedOccupied)];
  // Index in the chart: 0 is today (full already), 1… the forecast days.
  const dayIndex = f.fullOn ? days.findIndex((d) => d.date === f.fullOn) : -1;
  const fullIndex = dayIndex >= 0 ? dayIndex + 1 : f.fullOn && f.fullOn <= today ? 0 : -1;
  const last = days.length ? days[days.length - 1].expectedOccupied : f.occupiedNow;
  const chart = lineChart({
    label: t('forecastChart', { name, now: num(f.occupiedNow), capacity: num(f.capacity), last: fmtDecimal(last), sentence }),
    xLabels: labels,
    series: [{ name: t('expectedOccupied'), values, area: true }],
    refLines: [{ value: f.capacity, label: t('capacity', { capacity: num(f.capacity) }) }],
    markers: fullIndex === 0 ? [{ index: 0, label: `${t('now')}: ${t('full')}` }]
      : [{ index: 0, label: t('now') }, ...(fullIndex > 0 ? [{ index: fullIndex, label: t('full') }] : [])],
    yMax: f.capacity,
    formatValue: num,
    yTitle: t('occupiedCompartments'),
  });
  const b = f.basis || {};
  return h('div', { class: 'dash-forecast' },
    h('h3', {}, name),
    h('p', { class: ['dash-sentence', f.fullOn ? 'dash-sentence-full' : 'dash-sentence-ok'] }, sentence),
    h('figure', { class: 'dash-chart' }, chart,
      legend([{ name: t('expectedOccupied') }, { name: t('capacityLegend'), ref: true, style: { colour: '#1a1a1a', dash: '6 4' } }])),
    // Without observed pickups the server assumes the times: say so instead of "im Median".
    h('p', { class: 'hint' }, t(b.observedPickups ? 'forecastBasis' : 'forecastAssumed', { inProduction: num(b.inProduction), delivery: num(b.medianDaysToDelivery), pickup: num(b.medianDaysToPickup), observed: num(b.observedPickups) })),
    dataTable({
      key: `forecast-${box.id}`,
      summary: t('forecastTable', { name }),
      caption: t('forecastCaption', { name, capacity: num(f.capacity) }),
      columns: [{ label: t('date') }, { label: t('expectedArrivals'), num: true }, { label: t('expectedPickups'), num: true }, { label: t('expectedOccupied'), num: true }],
      rows: days.map((d) => [fmtDate(d.date), fmtDecimal(d.expectedArrivals), fmtDecimal(d.expectedPickups), fmtDecimal(d.expectedOccupied)]),
    }));
}

function forecastSection(data, forecasts) {
  const boxes = data.boxes || [];
  if (!boxes.length) return null;
  return h('section', { 'aria-labelledby': 'dash-forecast' },
    h('h2', { id: 'dash-forecast' }, t('forecast')),
    h('div', { class: 'dash-grid' }, boxes.map((box) => forecastBlock(box, forecasts.get(box.id), data.today))));
}

function pickupsChart(data) {
  const rows = data.pickupsPerDay || [];
  const counts = rows.map((r) => r.count);
  const total = counts.reduce((a, b) => a + b, 0);
  const label = t('pickupsPerDayLabel', {
    from: fmtDate(rows[0]?.date), to: fmtDate(rows[rows.length - 1]?.date),
    total: num(total), max: num(Math.max(0, ...counts)), today: num(counts[counts.length - 1] ?? 0),
  });
  return h('div', { class: 'dash-chart-block' },
    h('h3', {}, t('pickupsPerDay')),
    h('figure', { class: 'dash-chart' }, barChart({
      label,
      bars: rows.map((r) => ({ label: fmtDayShort(r.date), value: r.count, title: t('pickupsOn', { date: fmtDate(r.date), count: num(r.count) }) })),
      formatValue: num,
      yTitle: t('pickups'),
      labelRoom: 7,
    })),
    dataTable({
      key: 'pickups-per-day',
      summary: t('pickupsPerDayTable'),
      caption: t('pickupsPerDay'),
      columns: [{ label: t('date') }, { label: t('pickups'), num: true }],
      rows: rows.map((r) => [fmtDate(r.date), num(r.count)]),
    }));
}

function daysChart(data) {
  const rows = data.daysToPickup || [];
  const dayLabel = (r) => (r.orMore ? t('daysOrMore', { days: num(r.days) }) : t('daysValue', { days: num(r.days) }));
  const total = rows.reduce((a, r) => a + r.count, 0);
  const mode = rows.reduce((best, r) => (r.count > (best?.count ?? 0) ? r : best), null);
  const label = total ? t('daysToPickupLabel', { total: num(total), mode: mode ? dayLabel(mode) : '—' }) : t('daysToPickupNone');
  return h('div', { class: 'dash-chart-block' },
    h('h3', {}, t('daysToPickup')),
    h('figure', { class: 'dash-chart' }, barChart({
      label,
      bars: rows.map((r) => ({ label: r.orMore ? `${num(r.days)}+` : num(r.days), value: r.count, title: t('daysTooltip', { count: num(r.count), days: dayLabel(r) }) })),
      formatValue: num,
      xTitle: t('days'),
      yTitle: t('pickups'),
      labelRoom: 16,
    })),
    dataTable({
      key: 'days-to-pickup',
      summary: t('daysToPickupTable'),
      caption: t('daysToPickup'),
      columns: [{ label: t('days') }, { label: t('pickups'), num: true }],
      rows: rows.map((r) => [dayLabel(r), num(r.count)]),
    }));
}

function occupancyChart(data) {
  const series = data.occupancy || [];
  if (!series.length) return h('div', { class: 'dash-chart-block' }, h('h3', {}, t('occupancy')), h('p', {}, t('noBoxes')));
  const dates = series[0].points.map((p) => p.date);
  const summaryOf = (o) => {
    const values = o.points.map((p) => p.occupied);
    return t('occupancyOne', { name: o.name, now: num(values[values.length - 1] ?? 0), capacity: num(o.capacity), max: num(Math.max(0, ...values)) });
  };
  const label = t('occupancyLabel', { from: fmtDate(dates[0]), to: fmtDate(dates[dates.length - 1]), boxes: series.map(summaryOf).join('; ') });
  const byDate = (o) => new Map(o.points.map((p) => [p.date, p.occupied]));
  const maps = series.map(byDate);
  return h('div', { class: 'dash-chart-block' },
    h('h3', {}, t('occupancy')),
    h('figure', { class: 'dash-chart' },
      lineChart({
        label,
        xLabels: dates.map(fmtDayShort),
        series: series.map((o, i) => ({ name: o.name, values: dates.map((d) => maps[i].get(d) ?? null) })),
        formatValue: num,
        yTitle: t('occupiedCompartments'),
      }),
      legend(series.map((o, i) => ({ name: o.name, style: seriesStyle(i) })))),
    dataTable({
      key: 'occupancy',
      summary: t('occupancyTable'),
      caption: t('occupancyCaption'),
      columns: [{ label: t('date') }, ...series.map((o) => ({ label: `${o.name} (${t('capacity', { capacity: num(o.capacity) })})`, num: true }))],
      rows: dates.map((d) => [fmtDate(d), ...maps.map((m) => (m.has(d) ? num(m.get(d)) : '—'))]),
    }));
}

function statisticsSection(data) {
  return h('section', { 'aria-labelledby': 'dash-statistics' },
    h('h2', { id: 'dash-statistics' }, t('statistics')),
    h('div', { class: 'dash-grid' }, pickupsChart(data), daysChart(data), occupancyChart(data)));
}

/** Reads the dashboard and every box's forecast; a failed forecast leaves a gap, not a broken page. */
async function load(signal) {
  const data = await api('GET', '/api/v1/dashboard', { signal });
  const forecasts = new Map();
  await Promise.all((data.boxes || []).map(async (box) => {
    try {
      forecasts.set(box.id, await api('GET', `/api/v1/boxes/${encodeURIComponent(box.id)}/forecast`, { signal }));
    } catch (e) {
      if (e?.name === 'AbortError' || (e instanceof ApiError && e.status === 401)) throw e;
    }
  }));
  return { data, forecasts };
}

export async function render(ctx) {
  ctx.setTitle(t('title'));
  const asOf = h('p', { class: 'dash-asof muted' });
  const refreshButton = h('button', { type: 'button', class: 'button secondary' }, t('refresh'));
  const problem = h('div', { class: 'dash-problem' });
  // Read out after a refresh the user asked for (the one every minute stays quiet).
  const announce = h('p', { class: 'visually-hidden', role: 'status' });
  const body = h('div', { class: 'dashboard-body' }, h('p', {}, t('common.loading')));
  ctx.main.append(
    h('div', { class: 'dashboard' },
      h('div', { class: 'dash-head' }, h('h1', {}, t('title')), h('div', { class: 'dash-head-tools' }, asOf, refreshButton)),
      announce,
      problem,
      body));

  let shownAt = null;
  let loadedAt = 0;
  let running = null; // the refresh under way
  let asked = false; // the user asked for a refresh: say when it is done

  function draw({ data, forecasts }) {
    // Keep what the user had open or focused: the refresh must not move them.
    const open = new Set([...body.querySelectorAll('details[open]')].map((d) => d.dataset.key));
    const focusKey = body.contains(document.activeElement) ? document.activeElement.dataset?.key : null;
    replace(body,
      todaySection(data),
      attentionSection(data),
      boxesSection(data),
      forecastSection(data, forecasts),
      statisticsSection(data));
    for (const d of body.querySelectorAll('details[data-key]')) if (open.has(d.dataset.key)) d.open = true;
    if (focusKey) body.querySelector(`[data-key="${CSS.escape(focusKey)}"]`)?.focus();
    shownAt = data.generatedAt || new Date().toISOString();
    loadedAt = Date.now();
    asOf.textContent = t('asOf', { time: fmtDateTime(shownAt) });
    replace(problem);
  }

  /** Loads and draws anew; a refresh asked for while one runs is that one, announced when it is done. */
  function refresh({ byUser = false } = {}) {
    if (byUser) asked = true;
    running ||= (async () => {
      announce.textContent = '';
      try {
        draw(await load(ctx.signal));
        if (asked) announce.textContent = t('updated', { time: fmtDateTime(shownAt) });
      } catch (e) {
        if (e?.name === 'AbortError' || (e instanceof ApiError && e.status === 401)) return;
        replace(problem, notice('error', h('p', {}, shownAt ? t('refreshFailed', { time: fmtDateTime(shownAt) }) : t('loadFailed'))));
        if (!shownAt) replace(body);
      } finally {
        asked = false;
        running = null;
      }
    })();
    return running;
  }

  refreshButton.addEventListener('click', () => refresh({ byUser: true }));
  // Every minute while the page is open and visible; stopped when the user leaves.
  const timer = setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
  const onVisible = () => { if (!document.hidden && loadedAt && Date.now() - loadedAt > REFRESH_MS) refresh(); };
  document.addEventListener('visibilitychange', onVisible);
  ctx.onLeave(() => { clearInterval(timer); document.removeEventListener('visibilitychange', onVisible); });
  await refresh();
}
