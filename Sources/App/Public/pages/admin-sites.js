// Verwaltung › Standorte: the sites with their pickup deadline; for the chosen site
// (#/admin/sites?site=<id>) the weekly pickup hours (several periods a day), dated exceptions
// (closed days, special hours) and what a pickup at its boxes asks for; and a form for a new site.

import { h, field, replace, id, radios, formProblems, statusArea } from '../dom.js';
import { api } from '../api.js';
import { makeT, fmtDate, lang, weekdayName } from '../i18n.js';
import { CODES, adminText, busy, hidden, table } from './admin.js';

const t = makeT({
  de: {
    heading: 'Standorte',
    intro: 'Wählen Sie einen Standort, um seine Abholzeiten, Ausnahmen und die Regeln der Abholung zu ändern.',
    name: 'Name',
    address: 'Adresse',
    land: 'Bundesland',
    timeZone: 'Zeitzone',
    deadline: 'Abholfrist',
    'deadline.working_days': '{days} Werktage',
    'deadline.calendar_days': '{days} Kalendertage',
    chosen: '(ausgewählt)',
    empty: 'Es gibt noch keinen Standort.',
    notFound: 'Diesen Standort gibt es nicht (mehr).',
    // hours
    hoursHeading: 'Abholzeiten',
    hoursHint: 'Zu diesen Zeiten ist die Box zugänglich. Uhrzeiten als HH:MM, zum Beispiel 08:00; „24:00“ als Ende heißt „bis Mitternacht“. Ein Tag ohne Zeitraum ist geschlossen. Höchstens 4 Zeiträume je Tag.',
    weekday: 'Wochentag',
    periods: 'Zeiträume',
    closed: 'Geschlossen',
    from: 'von',
    to: 'bis',
    periodPrefix: '{day}, Zeitraum {n}: ',
    addPeriod: 'Zeitraum hinzufügen',
    removePeriod: 'Entfernen',
    onDay: ' am {day}',
    periodOf: ' ({day}, Zeitraum {n})',
    saveHours: 'Abholzeiten speichern',
    hoursSaved: 'Die Abholzeiten von „{site}“ sind gespeichert.',
    'time.missing': 'Bitte geben Sie eine Uhrzeit an (HH:MM).',
    // exceptions
    exceptionsHeading: 'Ausnahmen',
    exceptionsIntro: 'Feiertage, Schließtage und besondere Zeiten an einem Datum. Sie gelten statt der Abholzeiten des Wochentags.',
    noExceptions: 'Keine Ausnahmen ab heute.',
    day: 'Tag',
    rule: 'Regelung',
    note: 'Anlass',
    exceptionDay: 'Datum',
    exceptionDayHint: 'TT.MM.JJJJ, zum Beispiel 24.12.2026. Gibt es für den Tag schon eine Ausnahme, wird sie ersetzt.',
    exceptionKind: 'An diesem Tag',
    exceptionClosed: 'Geschlossen',
    exceptionSpecial: 'Besondere Abholzeiten',
    opens: 'Von',
    closes: 'Bis',
    timeHint: 'HH:MM',
    noteLabel: 'Anlass (freiwillig)',
    noteHint: 'Zum Beispiel „Heiligabend“ oder „Betriebsausflug“.',
    saveException: 'Ausnahme speichern',
    exceptionSaved: 'Die Ausnahme am {day} ist gespeichert.',
    removeException: 'Entfernen',
    exceptionOf: ' (Ausnahme am {day})',
    exceptionRemoved: 'Die Ausnahme am {day} ist entfernt.',
    'day.missing': 'Bitte geben Sie ein Datum an.',
    // pickup settings
    settingsHeading: 'Abholung an der Box',
    settingsIntro: 'Was eine Person an den Boxen dieses Standorts nachweisen muss. Die Boxen übernehmen Änderungen bei ihrer nächsten Abfrage.',
    pinLetter: 'Bestätigung des PIN-Briefs verlangen',
    pinLetterHint: 'Die Person bestätigt am Bedienfeld, dass sie den PIN-Brief erhalten hat.',
    secondFactor: 'Zweiter Nachweis neben der SMS-PIN',
    'factor.date_of_birth_or_can': 'Geburtsdatum oder CAN',
    'factor.date_of_birth_or_can.hint': 'Bei Erstausstellung das Geburtsdatum, bei Verlängerung die CAN des alten Dokuments.',
    'factor.date_of_birth': 'Immer das Geburtsdatum',
    'factor.none': 'Kein zweiter Nachweis',
    'factor.none.hint': 'Nur die SMS-PIN. Nicht empfohlen.',
    oldDocument: 'Altes Dokument bei Verlängerung einziehen',
    oldDocumentHint: 'Die Person wirft das alte Dokument in den Entwertungsschacht der Box.',
    fourEyes: 'Vier-Augen-Prinzip beim Beladen',
    fourEyesHint: 'Ein Fach öffnet sich zum Beladen erst, wenn zwei Dienstausweise vorgehalten wurden (siehe Benutzerkonten).',
    saveSettings: 'Einstellungen speichern',
    settingsSaved: 'Die Einstellungen der Abholung in „{site}“ sind gespeichert.',
    // create
    createHeading: 'Neuer Standort',
    nameHint: 'So erscheint der Standort in den SMS und auf dem Bedienfeld, zum Beispiel „Bürgeramt Mitte“.',
    addressHint: 'Straße, Hausnummer, Postleitzahl und Ort.',
    landHint: 'Bestimmt die Feiertage, die bei einer Frist in Werktagen nicht zählen.',
    chooseLand: 'Bitte wählen',
    timeZoneHint: 'In Deutschland immer Europe/Berlin.',
    deadlineKind: 'Abholfrist zählt in',
    'kind.working_days': 'Werktagen',
    'kind.working_days.hint': 'Ohne Samstage, Sonntage und Feiertage des Bundeslands.',
    'kind.calendar_days': 'Kalendertagen',
    deadlineDays: 'Länge der Abholfrist in Tagen',
    deadlineDaysHint: '1 bis 60 Tage. Danach wird das Dokument aus der Box an den Schalter gebracht.',
    create: 'Standort anlegen',
    created: 'Der Standort „{name}“ ist angelegt. Legen Sie jetzt seine Abholzeiten fest.',
    'missing.name': 'Bitte geben Sie den Namen des Standorts an.',
    'missing.address': 'Bitte geben Sie die Adresse an.',
    'missing.land': 'Bitte wählen Sie das Bundesland.',
    'days.range': 'Bitte eine ganze Zahl von 1 bis 60 angeben.',
  },
  en: {
    heading: 'Sites',
    intro: 'Choose a site to change its pickup hours, exceptions and pickup rules.',
    name: 'Name',
    address: 'Address',
    land: 'Land',
    timeZone: 'Time zone',
    deadline: 'Pickup deadline',
    'deadline.working_days': '{days} working days',
    'deadline.calendar_days': '{days} calendar days',
    chosen: '(chosen)',
    empty: 'There is no site yet.',
    notFound: 'There is no such site (any more).',
    hoursHeading: 'Pickup hours',
    hoursHint: 'The box can be used at these times. Times as HH:MM, for example 08:00; “24:00” as the end means “until midnight”. A day without a period is closed. At most 4 periods a day.',
    weekday: 'Weekday',
    periods: 'Periods',
    closed: 'Closed',
    from: 'from',
    to: 'to',
    periodPrefix: '{day}, period {n}: ',
    addPeriod: 'Add period',
    removePeriod: 'Remove',
    onDay: ' on {day}',
    periodOf: ' ({day}, period {n})',
    saveHours: 'Save pickup hours',
    hoursSaved: 'The pickup hours of “{site}” are saved.',
    'time.missing': 'Please give a time (HH:MM).',
    exceptionsHeading: 'Exceptions',
    exceptionsIntro: 'Public holidays, closed days and special hours on a date. They apply instead of the weekday\'s pickup hours.',
    noExceptions: 'No exceptions from today on.',
    day: 'Day',
    rule: 'Rule',
    note: 'Reason',
    exceptionDay: 'Date',
    exceptionDayHint: 'DD.MM.YYYY, for example 24.12.2026. An exception the day already has is replaced.',
    exceptionKind: 'On this day',
    exceptionClosed: 'Closed',
    exceptionSpecial: 'Special pickup hours',
    opens: 'From',
    closes: 'To',
    timeHint: 'HH:MM',
    noteLabel: 'Reason (optional)',
    noteHint: 'For example “Christmas Eve” or “staff outing”.',
    saveException: 'Save exception',
    exceptionSaved: 'The exception on {day} is saved.',
    removeException: 'Remove',
    exceptionOf: ' (exception on {day})',
    exceptionRemoved: 'The exception on {day} is removed.',
    'day.missing': 'Please give a date.',
    settingsHeading: 'Pickup at the box',
    settingsIntro: 'What a person must show at this site\'s boxes. The boxes take changes over with their next poll.',
    pinLetter: 'Ask for confirmation of the PIN letter',
    pinLetterHint: 'The person confirms on the panel that they received the PIN letter.',
    secondFactor: 'Second proof besides the SMS PIN',
    'factor.date_of_birth_or_can': 'Date of birth or CAN',
    'factor.date_of_birth_or_can.hint': 'The date of birth at first issuance, the old document\'s CAN at renewal.',
    'factor.date_of_birth': 'Always the date of birth',
    'factor.none': 'No second proof',
    'factor.none.hint': 'The SMS PIN only. Not recommended.',
    oldDocument: 'Collect the old document at renewal',
    oldDocumentHint: 'The person puts the old document into the box\'s destruction slot.',
    fourEyes: 'Four-eyes loading',
    fourEyesHint: 'A compartment opens for loading only after two staff badges were shown (see user accounts).',
    saveSettings: 'Save settings',
    settingsSaved: 'The pickup settings of “{site}” are saved.',
    createHeading: 'New site',
    nameHint: 'As the site appears in SMS and on the panel, for example “Bürgeramt Mitte”.',
    addressHint: 'Street, number, postcode and town.',
    landHint: 'Decides the public holidays that do not count in a deadline of working days.',
    chooseLand: 'Please choose',
    timeZoneHint: 'In Germany always Europe/Berlin.',
    deadlineKind: 'The pickup deadline counts in',
    'kind.working_days': 'working days',
    'kind.working_days.hint': 'Without Saturdays, Sundays and the Land\'s public holidays.',
    'kind.calendar_days': 'calendar days',
    deadlineDays: 'Length of the pickup deadline in days',
    deadlineDaysHint: '1 to 60 days. Then the document is taken from the box to the counter.',
    create: 'Create site',
    created: 'The site “{name}” is created. Now set its pickup hours.',
    'missing.name': 'Please give the site\'s name.',
    'missing.address': 'Please give the address.',
    'missing.land': 'Please choose the Land.',
    'days.range': 'Please give a whole number from 1 to 60.',
  },
});

const LANDS = {
  de: { BW: 'Baden-Württemberg', BY: 'Bayern', BE: 'Berlin', BB: 'Brandenburg', HB: 'Bremen', HH: 'Hamburg', HE: 'Hessen',
    MV: 'Mecklenburg-Vorpommern', NI: 'Niedersachsen', NW: 'Nordrhein-Westfalen', RP: 'Rheinland-Pfalz', SL: 'Saarland',
    SN: 'Sachsen', ST: 'Sachsen-Anhalt', SH: 'Schleswig-Holstein', TH: 'Thüringen' },
  en: { BW: 'Baden-Württemberg', BY: 'Bavaria', BE: 'Berlin', BB: 'Brandenburg', HB: 'Bremen', HH: 'Hamburg', HE: 'Hesse',
    MV: 'Mecklenburg-Western Pomerania', NI: 'Lower Saxony', NW: 'North Rhine-Westphalia', RP: 'Rhineland-Palatinate', SL: 'Saarland',
    SN: 'Saxony', ST: 'Saxony-Anhalt', SH: 'Schleswig-Holstein', TH: 'Thuringia' },
};
const landName = (code) => (LANDS[lang()] || LANDS.de)[code] || code;
const MAX_PERIODS = 4;
/** A notice for the next drawing of this tab (a new site is shown right after it was created). */
let flash = null;

/** "8", "0800", "8.30", "08:30" → "08:30"; "24:00" only as an end; null when it is no time. */
function normalizeTime(text, { end = false } = {}) {
  const m = /^(\d{1,2})(?:[:.]?(\d{2}))?$/.exec(text.trim());
  if (!m) return null;
  const hour = Number(m[1]), minute = Number(m[2] || 0);
  const ok = (hour < 24 && minute < 60) || (end && hour === 24 && minute === 0);
  return ok ? `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}` : null;
}

/** "24.12.2026", "24.12.26" or "2026-12-24" → "2026-12-24"; null when it is no real date. */
function normalizeDate(text) {
  let y, mo, d;
  const de = /^(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})$/.exec(text.trim());
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  if (de) { d = Number(de[1]); mo = Number(de[2]); y = Number(de[3]); if (y < 100) y += 2000; }
  else if (iso) { y = Number(iso[1]); mo = Number(iso[2]); d = Number(iso[3]); }
  else return null;
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  return `${y}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

export async function render(ctx, panel) {
  const status = statusArea();
  let sites = await api('GET', '/api/v1/sites', { signal: ctx.signal });
  const chosenId = ctx.query.get('site');
  const listWrap = h('div', {});
  const chosenWrap = h('div', {});

  function drawList() {
    if (!sites.length) { replace(listWrap, h('p', {}, t('empty'))); return; }
    replace(listWrap, table(null, [t('name'), t('address'), t('land'), t('deadline')], sites.map((site) => {
      const chosen = site.id.toLowerCase() === chosenId?.toLowerCase();
      return h('tr', { class: chosen ? 'is-chosen' : undefined },
        h('td', {}, h('a', { href: `#/admin/sites?site=${encodeURIComponent(site.id)}`, 'aria-current': chosen ? 'true' : undefined }, site.name),
          chosen ? [' ', h('span', { class: 'muted' }, t('chosen'))] : null),
        h('td', {}, site.address),
        h('td', {}, landName(site.land)),
        h('td', {}, t(`deadline.${site.deadlineKind}`, { days: site.deadlineDays })));
    })));
  }

  async function refresh() {
    sites = await api('GET', '/api/v1/sites', { signal: ctx.signal });
    drawList();
    return sites.find((s) => s.id.toLowerCase() === chosenId?.toLowerCase());
  }

  drawList();
  panel.append(h('h2', {}, t('heading')), h('p', {}, t('intro')), status.el, listWrap, chosenWrap,
    createForm(ctx, status, (site) => {
      flash = t('created', { name: site.name });
      ctx.navigate(`/admin/sites?site=${site.id}`);
    }));
  if (flash) { status.say('success', flash); flash = null; }

  if (chosenId) {
    const site = sites.find((s) => s.id.toLowerCase() === chosenId.toLowerCase());
    if (!site) { replace(chosenWrap, h('div', { class: 'notice notice-warning' }, h('p', {}, t('notFound')))); return; }
    const headingId = id('site');
    const heading = h('h2', { tabindex: '-1', class: 'site-heading', id: headingId }, site.name);
    replace(chosenWrap, h('section', { class: 'admin-site', 'aria-labelledby': headingId },
      heading,
      h('dl', { class: 'summary' },
        h('dt', {}, t('address')), h('dd', {}, site.address),
        h('dt', {}, t('land')), h('dd', {}, landName(site.land)),
        h('dt', {}, t('timeZone')), h('dd', {}, site.timeZone),
        h('dt', {}, t('deadline')), h('dd', {}, t(`deadline.${site.deadlineKind}`, { days: site.deadlineDays }))),
      hoursEditor(site),
      exceptionsEditor(ctx, site, refresh),
      settingsForm(site, refresh)));
    heading.focus();
  }
}

/**
 * One "HH:MM" input labelled "von"/"bis" on screen and "Montag, Zeitraum 1: von" for screen readers
 * (the prefix is visually hidden); its errors go to the period's error line.
 */
function timeInput(value, errorLine) {
  const fid = id('time');
  const input = h('input', { id: fid, type: 'text', class: 'time', inputmode: 'numeric', autocomplete: 'off', maxlength: '5', value: value || '' });
  const labelEl = h('label', { for: fid, class: 'time-label' });
  return {
    input,
    label: labelEl,
    setLabel(prefix, text) { replace(labelEl, hidden(prefix), text); },
    setError(message) {
      if (message) {
        errorLine.textContent = message;
        errorLine.hidden = false;
        input.setAttribute('aria-invalid', 'true');
        input.setAttribute('aria-describedby', errorLine.id);
      } else {
        input.removeAttribute('aria-invalid');
        input.removeAttribute('aria-describedby');
        if (!errorLine.parentElement?.querySelector('[aria-invalid]')) { errorLine.textContent = ''; errorLine.hidden = true; }
      }
    },
  };
}

function hoursEditor(site) {
  const problems = formProblems({ codes: CODES });
  const status = statusArea();
  const hintId = id('hours-hint');
  const days = new Map(); // weekday → {list, addButton, periods: [{opens, closes, row}]}
  const tbody = h('tbody', {});

  function relabel(weekday) {
    const day = days.get(weekday);
    day.periods.forEach((p, i) => {
      const prefix = t('periodPrefix', { day: weekdayName(weekday), n: i + 1 });
      p.opens.setLabel(prefix, t('from'));
      p.closes.setLabel(prefix, t('to'));
      replace(p.removeButton, t('removePeriod'), hidden(t('periodOf', { day: weekdayName(weekday), n: i + 1 })));
    });
    day.closedNote.hidden = day.periods.length > 0;
    day.addButton.hidden = day.periods.length >= MAX_PERIODS;
  }

  function addPeriod(weekday, interval) {
    const day = days.get(weekday);
    const errorLine = h('p', { class: 'field-error', id: id('period-error'), hidden: true });
    const opens = timeInput(interval?.opens, errorLine);
    const closes = timeInput(interval?.closes, errorLine);
    const period = { opens, closes };
    period.removeButton = h('button', { type: 'button', class: 'link-button', on: { click: () => {
      const index = day.periods.indexOf(period);
      day.periods.splice(index, 1);
      period.row.remove();
      relabel(weekday);
      (day.periods[index - 1]?.closes.input || day.periods[0]?.opens.input || day.addButton).focus();
    } } });
    period.row = h('li', { class: 'period' },
      h('span', { class: 'period-times' }, opens.label, opens.input, closes.label, closes.input),
      period.removeButton, errorLine);
    day.periods.push(period);
    day.list.append(period.row);
    relabel(weekday);
    return period;
  }

  function draw(hours) {
    tbody.replaceChildren();
    days.clear();
    for (let weekday = 1; weekday <= 7; weekday += 1) {
      const list = h('ul', { class: 'periods' });
      const closedNote = h('p', { class: 'muted closed-note' }, t('closed'));
      const addButton = h('button', { type: 'button', class: 'button secondary small', on: { click: () => addPeriod(weekday).opens.input.focus() } },
        t('addPeriod'), hidden(t('onDay', { day: weekdayName(weekday) })));
      days.set(weekday, { list, closedNote, addButton, periods: [] });
      tbody.append(h('tr', {}, h('th', { scope: 'row' }, weekdayName(weekday)), h('td', {}, closedNote, list, addButton)));
      for (const interval of hours.filter((x) => x.weekday === weekday)) addPeriod(weekday, interval);
      relabel(weekday);
    }
  }

  const submit = h('button', { type: 'submit', class: 'button' }, t('saveHours'));
  const form = h('form', { novalidate: true, class: 'admin-form hours-form', 'aria-describedby': hintId },
    h('h3', {}, t('hoursHeading')),
    h('p', { class: 'hint', id: hintId }, t('hoursHint')),
    problems.summary,
    h('div', { class: 'table-wrap' }, h('table', { class: 'hours' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('weekday')), h('th', { scope: 'col' }, t('periods')))),
      tbody)),
    h('div', { class: 'button-row' }, submit),
    status.el);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    status.clear();
    const sent = [];
    const list = [];
    for (const [weekday, day] of days) {
      for (const p of day.periods) {
        const opens = normalizeTime(p.opens.input.value);
        const closes = normalizeTime(p.closes.input.value, { end: true });
        if (opens) p.opens.input.value = opens;
        if (closes) p.closes.input.value = closes;
        if (!opens) list.push({ field: p.opens, message: p.opens.input.value.trim() ? adminText('invalid_time') : t('time.missing') });
        if (!closes) list.push({ field: p.closes, message: p.closes.input.value.trim() ? adminText('invalid_time') : t('time.missing') });
        else if (opens && closes <= opens) list.push({ field: p.closes, message: adminText('closes_before_opens') });
        sent.push({ weekday, opens, closes, period: p });
      }
    }
    // Periods of one day must not overlap (touching is fine): 08:00–12:00 and 12:00–16:00.
    if (!list.length) {
      const ordered = [...sent].sort((a, b) => a.weekday - b.weekday || a.opens.localeCompare(b.opens));
      ordered.forEach((x, i) => {
        const before = ordered[i - 1];
        if (before && before.weekday === x.weekday && x.opens < before.closes) list.push({ field: x.period.opens, message: adminText('overlapping_intervals') });
      });
    }
    if (list.length) { problems.show(list.map((x) => ({ ...x, message: `${x.field.label.textContent} – ${x.message}` }))); return; }
    busy(submit, async () => {
      try {
        const updated = await api('PUT', `/api/v1/sites/${site.id}/hours`, { body: { hours: sent.map(({ weekday, opens, closes }) => ({ weekday, opens, closes })) } });
        problems.clear();
        draw(updated.hours);
        status.say('success', t('hoursSaved', { site: site.name }));
      } catch (e) {
        if (e.name === 'AbortError') return;
        problems.fromApi(e, (name) => {
          const m = /^hours\[(\d+)\](?:\.(opens|closes|weekday))?$/.exec(name);
          const p = m && sent[Number(m[1])]?.period;
          return p ? (m[2] === 'closes' ? p.closes : p.opens) : null;
        });
      }
    });
  });
  draw(site.hours);
  return form;
}

function exceptionsEditor(ctx, site, refresh) {
  const problems = formProblems({ codes: CODES });
  const status = statusArea();
  const listWrap = h('div', {});

  function drawList(exceptions) {
    if (!exceptions.length) { replace(listWrap, h('p', {}, t('noExceptions'))); return; }
    replace(listWrap, table(null, [t('day'), t('rule'), t('note'), ''], exceptions.map((x) => h('tr', {},
      h('td', { class: 'nowrap' }, fmtDate(x.day)),
      h('td', {}, x.closed ? t('closed') : `${x.opens} – ${x.closes}`),
      h('td', {}, x.note || '—'),
      h('td', {}, h('button', { type: 'button', class: 'link-button', on: { click: (e) => remove(x, e.currentTarget) } },
        t('removeException'), hidden(t('exceptionOf', { day: fmtDate(x.day) }))))))));
  }

  async function remove(exception, button) {
    status.clear();
    await busy(button, async () => {
      try {
        await api('DELETE', `/api/v1/sites/${site.id}/exceptions/${exception.day}`);
        const fresh = await refresh();
        drawList(fresh?.exceptions || []);
        status.say('success', t('exceptionRemoved', { day: fmtDate(exception.day) }));
      } catch (e) {
        if (e.name === 'AbortError') return;
        problems.fromApi(e);
      }
    });
  }

  const day = field({ label: t('exceptionDay'), name: 'day', hint: t('exceptionDayHint'), autocomplete: 'off', attrs: { class: 'short', inputmode: 'numeric' } });
  const kind = radios({ legend: t('exceptionKind'), name: 'exceptionKind', value: 'closed', options: [['closed', t('exceptionClosed')], ['special', t('exceptionSpecial')]] });
  const opens = field({ label: t('opens'), name: 'opens', hint: t('timeHint'), autocomplete: 'off', attrs: { class: 'short', inputmode: 'numeric', maxlength: '5' } });
  const closes = field({ label: t('closes'), name: 'closes', hint: t('timeHint'), autocomplete: 'off', attrs: { class: 'short', inputmode: 'numeric', maxlength: '5' } });
  const times = h('div', { class: 'inline-fields conditional' }, opens.wrap, closes.wrap);
  const note = field({ label: t('noteLabel'), name: 'note', hint: t('noteHint'), autocomplete: 'off', attrs: { maxlength: '200' } });
  const showTimes = () => { times.hidden = kind.value() !== 'special'; };
  kind.wrap.addEventListener('change', showTimes);
  showTimes();
  const submit = h('button', { type: 'submit', class: 'button' }, t('saveException'));
  const fields = { day, opens, closes, note, closed: kind };
  const form = h('form', { novalidate: true, class: 'admin-form exception-form' },
    problems.summary, day.wrap, kind.wrap, times, note.wrap, h('div', { class: 'button-row' }, submit));
  const kept = ctx.keepForm(form, `exception-${site.id}`);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    status.clear();
    const iso = normalizeDate(day.input.value);
    const closed = kind.value() !== 'special';
    const body = { day: iso, closed };
    const list = [];
    if (!iso) list.push({ field: day, message: day.input.value.trim() ? adminText('invalid_date') : t('day.missing') });
    if (!closed) {
      body.opens = normalizeTime(opens.input.value);
      body.closes = normalizeTime(closes.input.value, { end: true });
      if (body.opens) opens.input.value = body.opens;
      if (body.closes) closes.input.value = body.closes;
      if (!body.opens) list.push({ field: opens, message: opens.input.value.trim() ? adminText('invalid_time') : t('time.missing') });
      if (!body.closes) list.push({ field: closes, message: closes.input.value.trim() ? adminText('invalid_time') : t('time.missing') });
      else if (body.opens && body.closes <= body.opens) list.push({ field: closes, message: adminText('closes_before_opens') });
    }
    if (note.input.value.trim()) body.note = note.input.value.trim();
    if (list.length) { problems.show(list); return; }
    busy(submit, async () => {
      try {
        await api('POST', `/api/v1/sites/${site.id}/exceptions`, { body });
        kept.clear();
        problems.clear();
        form.reset();
        kind.set('closed');
        showTimes();
        const fresh = await refresh();
        drawList(fresh?.exceptions || []);
        status.say('success', t('exceptionSaved', { day: fmtDate(iso) }));
      } catch (e) {
        if (e.name === 'AbortError') return;
        problems.fromApi(e, (name) => fields[name] || null);
      }
    });
  });

  drawList(site.exceptions);
  return h('section', { class: 'admin-subsection' },
    h('h3', {}, t('exceptionsHeading')),
    h('p', {}, t('exceptionsIntro')),
    status.el, listWrap, form);
}

function settingsForm(site, refresh) {
  const problems = formProblems({ codes: CODES });
  const status = statusArea();
  const s = site.pickupSettings;
  const pinLetter = field({ label: t('pinLetter'), name: 'pinLetter', type: 'checkbox', value: s.pinLetter, hint: t('pinLetterHint') });
  const secondFactor = radios({ legend: t('secondFactor'), name: 'secondFactor', value: s.secondFactor, options: [
    ['date_of_birth_or_can', t('factor.date_of_birth_or_can'), t('factor.date_of_birth_or_can.hint')],
    ['date_of_birth', t('factor.date_of_birth')],
    ['none', t('factor.none'), t('factor.none.hint')],
  ] });
  const oldDocument = field({ label: t('oldDocument'), name: 'oldDocument', type: 'checkbox', value: s.oldDocument, hint: t('oldDocumentHint') });
  const fourEyes = field({ label: t('fourEyes'), name: 'fourEyesLoading', type: 'checkbox', value: s.fourEyesLoading, hint: t('fourEyesHint') });
  const submit = h('button', { type: 'submit', class: 'button' }, t('saveSettings'));
  const fields = { pinLetter, secondFactor, oldDocument, fourEyesLoading: fourEyes };
  const form = h('form', { novalidate: true, class: 'admin-form' },
    h('h3', {}, t('settingsHeading')),
    h('p', {}, t('settingsIntro')),
    problems.summary, pinLetter.wrap, secondFactor.wrap, oldDocument.wrap, fourEyes.wrap,
    h('div', { class: 'button-row' }, submit), status.el);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    status.clear();
    busy(submit, async () => {
      try {
        await api('PUT', `/api/v1/sites/${site.id}/pickup-settings`, { body: {
          pinLetter: pinLetter.input.checked, secondFactor: secondFactor.value(), oldDocument: oldDocument.input.checked, fourEyesLoading: fourEyes.input.checked,
        } });
        problems.clear();
        await refresh();
        status.say('success', t('settingsSaved', { site: site.name }));
      } catch (e) {
        if (e.name === 'AbortError') return;
        problems.fromApi(e, (name) => fields[name] || null);
      }
    });
  });
  return form;
}

function createForm(ctx, status, created) {
  const problems = formProblems({ codes: CODES });
  const name = field({ label: t('name'), name: 'name', hint: t('nameHint'), autocomplete: 'off', attrs: { maxlength: '200' } });
  const address = field({ label: t('address'), name: 'address', hint: t('addressHint'), autocomplete: 'off', attrs: { maxlength: '500' } });
  const lands = Object.keys(LANDS.de).sort((a, b) => landName(a).localeCompare(landName(b), lang()));
  const land = field({ label: t('land'), name: 'land', hint: t('landHint'), options: [['', t('chooseLand')], ...lands.map((code) => [code, landName(code)])] });
  const timeZone = field({ label: t('timeZone'), name: 'timeZone', hint: t('timeZoneHint'), value: 'Europe/Berlin', autocomplete: 'off', attrs: { spellcheck: 'false' } });
  const deadlineKind = radios({ legend: t('deadlineKind'), name: 'deadlineKind', value: 'working_days', options: [
    ['working_days', t('kind.working_days'), t('kind.working_days.hint')], ['calendar_days', t('kind.calendar_days')]] });
  const deadlineDays = field({ label: t('deadlineDays'), name: 'deadlineDays', hint: t('deadlineDaysHint'), value: '10', autocomplete: 'off', inputmode: 'numeric', attrs: { class: 'short', maxlength: '2' } });
  const submit = h('button', { type: 'submit', class: 'button' }, t('create'));
  const fields = { name, address, land, timeZone, deadlineKind, deadlineDays };
  const form = h('form', { novalidate: true, class: 'admin-form' },
    h('h2', {}, t('createHeading')),
    problems.summary, name.wrap, address.wrap, land.wrap, timeZone.wrap, deadlineKind.wrap, deadlineDays.wrap,
    h('div', { class: 'button-row' }, submit));
  const kept = ctx.keepForm(form, 'create-site');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    status.clear();
    const days = deadlineDays.input.value.trim();
    const body = {
      name: name.input.value.trim(),
      address: address.input.value.trim(),
      land: land.input.value,
      timeZone: timeZone.input.value.trim() || 'Europe/Berlin',
      deadlineKind: deadlineKind.value(),
      deadlineDays: Number(days),
    };
    const list = [];
    if (!body.name) list.push({ field: name, message: t('missing.name') });
    if (!body.address) list.push({ field: address, message: t('missing.address') });
    if (!body.land) list.push({ field: land, message: t('missing.land') });
    if (!/^\d{1,2}$/.test(days) || body.deadlineDays < 1 || body.deadlineDays > 60) list.push({ field: deadlineDays, message: t('days.range') });
    if (list.length) { problems.show(list); return; }
    busy(submit, async () => {
      try {
        const site = await api('POST', '/api/v1/sites', { body });
        kept.clear();
        created(site);
      } catch (e) {
        if (e.name === 'AbortError') return;
        problems.fromApi(e, (n) => fields[n] || null);
      }
    });
  });
  return form;
}
