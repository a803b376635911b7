// Verwaltung › SMS-Texte: one editor per kind and language with a live counter of SMS parts and
// encoding. The count comes from the server's one rule (POST …/preview, debounced, the previous
// request aborted), rendered with the longest values; missing placeholders and an over-budget text
// show as problems while typing. Save, return to the built-in text, or add a text in a new language.

import { h, field, replace, id, formProblems, statusArea, confirmStep } from '../dom.js';
import { api, ApiError } from '../api.js';
import { makeT, fmtDateTime, lang, languageName } from '../i18n.js';
import { CODES, adminText, busy, hidden } from './admin.js';

const t = makeT({
  de: {
    heading: 'SMS-Texte',
    intro: 'Diese Texte gehen an die Antragstellenden. Platzhalter: {pin} (die PIN), {site} (der Standort), {deadline} (das Ende der Abholfrist, TT.MM.JJJJ). Für Namen, Geburtsdaten oder Vorgangsnummern gibt es bewusst keinen Platzhalter: Eine SMS kann jeder auf dem Sperrbildschirm lesen.',
    budgetIntro: 'Gezählt wird mit den längsten Werten (6-stellige PIN, ein Datum, der längste Standortname). Ein Text darf höchstens {budget} SMS-Teile haben. Ein Zeichen außerhalb des GSM-Zeichensatzes (etwa „ş“) macht aus der ganzen SMS UCS-2 mit weniger Zeichen je Teil.',
    'kind.ready_in_box': 'Abholbereit in der Box',
    'kind.ready_in_box.hint': 'Wenn das Dokument in die Box gelegt wurde: mit PIN und Frist.',
    'kind.reminder': 'Erinnerung vor Fristende',
    'kind.reminder.hint': 'Einmal einige Tage vor dem Ende der Abholfrist.',
    'kind.moved_to_counter': 'Aus der Box an den Schalter gebracht',
    'kind.moved_to_counter.hint': 'Wenn die Frist abgelaufen ist und das Dokument am Schalter liegt.',
    'kind.new_pin': 'Neue PIN',
    'kind.new_pin.hint': 'Wenn Beschäftigte eine neue PIN ausgeben.',
    'kind.ready_at_counter': 'Abholbereit am Schalter',
    'kind.ready_at_counter.hint': 'Wenn das Dokument zur Abholung am Schalter bereitliegt.',
    'kind.mobile_number_changed': 'Mobilnummer geändert',
    'kind.mobile_number_changed.hint': 'An die bisherige Nummer, wenn eine neue Mobilnummer freigegeben wurde. Nennt die neue Nummer nie.',
    textLabel: 'Text: {kind} ({language})',
    required: 'Muss {list} enthalten.',
    'source.custom': 'Eigener Text, geändert {when}',
    'source.customNoDate': 'Eigener Text',
    'source.default': 'Standardtext',
    'source.fallback': 'Kein eigener Text: Es werden der deutsche und der englische Text zusammen gesendet.',
    'source.new': 'Neu, noch nicht gespeichert. Übersetzen Sie den deutschen Text.',
    counter: '{segments} von {budget} SMS-Teilen · {encoding}',
    counterUnavailable: 'Die Zählung beim Tippen ist gerade nicht verfügbar; beim Speichern wird geprüft.',
    problemsTitle: 'So kann der Text nicht gespeichert werden:',
    save: 'Text speichern',
    saved: 'Der Text „{kind}“ ({language}) ist gespeichert.',
    reset: 'Standardtext wiederherstellen',
    remove: 'Eigenen Text entfernen',
    confirmReset: 'Den eigenen Text „{kind}“ ({language}) verwerfen und den Standardtext wiederherstellen?',
    confirmRemove: 'Den eigenen Text „{kind}“ ({language}) entfernen?',
    confirmRemoveDetail: 'Ohne eigenen Text gehen der deutsche und der englische Text zusammen hinaus.',
    confirmResetButton: 'Ja, Standardtext wiederherstellen',
    confirmRemoveButton: 'Ja, Text entfernen',
    resetDone: 'Für „{kind}“ ({language}) gilt wieder der Standardtext.',
    removed: 'Der eigene Text „{kind}“ ({language}) ist entfernt.',
    'missing.body': 'Bitte geben Sie einen Text ein.',
    addHeading: 'Text in einer weiteren Sprache',
    addIntro: 'Für Sprachen ohne eigenen Text gehen der deutsche und der englische Text zusammen hinaus. Ein eigener Text ist kürzer und verständlicher.',
    kind: 'Art der SMS',
    languageCode: 'Sprachcode',
    languageCodeHint: 'Zwei Buchstaben nach ISO 639-1, zum Beispiel tr (Türkisch), ar (Arabisch), uk (Ukrainisch).',
    add: 'Text anlegen',
    exists: 'Den Text „{kind}“ ({language}) gibt es schon – Sie können ihn oben bearbeiten.',
    addedEditor: 'Der Text „{kind}“ ({language}) ist angelegt. Übersetzen Sie ihn und speichern Sie ihn dann.',
    'missing.language': 'Bitte geben Sie einen Sprachcode aus zwei Buchstaben an, zum Beispiel tr.',
  },
  en: {
    heading: 'SMS texts',
    intro: 'These texts go to the applicants. Placeholders: {pin} (the PIN), {site} (the site), {deadline} (the end of the pickup deadline, DD.MM.YYYY). There is deliberately no placeholder for names, dates of birth or Vorgangsnummern (reference numbers): anyone can read an SMS on a lock screen.',
    budgetIntro: 'The count uses the longest values (a 6-digit PIN, a date, the longest site name). A text may have at most {budget} SMS parts. One character outside the GSM character set (such as “ş”) turns the whole SMS into UCS-2 with fewer characters per part.',
    'kind.ready_in_box': 'Ready in the box',
    'kind.ready_in_box.hint': 'When the document was put into the box: with PIN and deadline.',
    'kind.reminder': 'Reminder before the deadline',
    'kind.reminder.hint': 'Once, some days before the pickup deadline ends.',
    'kind.moved_to_counter': 'Taken from the box to the counter',
    'kind.moved_to_counter.hint': 'When the deadline passed and the document is at the counter.',
    'kind.new_pin': 'New PIN',
    'kind.new_pin.hint': 'When a caseworker issues a new PIN.',
    'kind.ready_at_counter': 'Ready at the counter',
    'kind.ready_at_counter.hint': 'When the document is ready for collection at the counter.',
    'kind.mobile_number_changed': 'Mobile number changed',
    'kind.mobile_number_changed.hint': 'To the previous number when a new mobile number was approved. Never names the new number.',
    textLabel: 'Text: {kind} ({language})',
    required: 'Must contain {list}.',
    'source.custom': 'Own text, changed {when}',
    'source.customNoDate': 'Own text',
    'source.default': 'Built-in text',
    'source.fallback': 'No own text: the German and the English text are sent together.',
    'source.new': 'New, not saved yet. Translate the German text.',
    counter: '{segments} of {budget} SMS parts · {encoding}',
    counterUnavailable: 'Counting while typing is not available right now; saving checks the text.',
    problemsTitle: 'The text cannot be saved like this:',
    save: 'Save text',
    saved: 'The text “{kind}” ({language}) is saved.',
    reset: 'Restore the built-in text',
    remove: 'Remove own text',
    confirmReset: 'Discard the own text “{kind}” ({language}) and restore the built-in text?',
    confirmRemove: 'Remove the own text “{kind}” ({language})?',
    confirmRemoveDetail: 'Without an own text the German and the English text go out together.',
    confirmResetButton: 'Yes, restore the built-in text',
    confirmRemoveButton: 'Yes, remove the text',
    resetDone: 'The built-in text applies again to “{kind}” ({language}).',
    removed: 'The own text “{kind}” ({language}) is removed.',
    'missing.body': 'Please enter a text.',
    addHeading: 'Text in another language',
    addIntro: 'Languages without an own text get the German and the English text together. An own text is shorter and easier to understand.',
    kind: 'Kind of SMS',
    languageCode: 'Language code',
    languageCodeHint: 'Two letters of ISO 639-1, for example tr (Turkish), ar (Arabic), uk (Ukrainian).',
    add: 'Add text',
    exists: 'The text “{kind}” ({language}) exists – you can edit it above.',
    addedEditor: 'The text “{kind}” ({language}) is added. Translate it, then save it.',
    'missing.language': 'Please give a language code of two letters, for example tr.',
  },
});

const BUILT_IN = ['de', 'en'];
const PREVIEW_DELAY_MS = 150;
const ENCODINGS = { gsm7: 'GSM-7', ucs2: 'UCS-2' };

/** "{pin}", "{pin} und {deadline}". */
function placeholderList(names) {
  const items = names.map((n) => `{${n}}`);
  const and = lang() === 'de' ? ' und ' : ' and ';
  return items.length > 1 ? `${items.slice(0, -1).join(', ')}${and}${items[items.length - 1]}` : items.join('');
}

/** The problems of a preview (or a refused save) in words; `vars` fill {segments}, {required}, … */
function problemText(problem, item, vars) {
  const missing = item.requiredPlaceholders.filter((p) => !vars.body.includes(`{${p}}`));
  return adminText(problem.error, { ...vars, required: placeholderList(missing.length ? missing : item.requiredPlaceholders) });
}

export async function render(ctx, panel) {
  const status = statusArea();
  const content = h('div', {});
  const editors = new Map(); // "kind/language" → {textarea, …}
  const timers = new Set();
  const controllers = new Set();
  let previewAvailable = true;
  let list;

  ctx.onLeave(() => {
    for (const timer of timers) clearTimeout(timer);
    for (const controller of controllers) controller.abort();
  });

  const kindLabel = (kind) => t(`kind.${kind}`);
  const sortLanguages = (a, b) => (BUILT_IN.indexOf(a) + 1 || 99) - (BUILT_IN.indexOf(b) + 1 || 99) || a.localeCompare(b);

  async function load() {
    list = await api('GET', '/api/v1/sms/templates', { signal: ctx.signal });
  }

  function editor(item, { isNew = false } = {}) {
    const key = `${item.kind}/${item.language}`;
    const problems = formProblems({ codes: CODES });
    const edStatus = statusArea();
    const confirmWrap = h('div', { class: 'admin-action', hidden: true });
    const sourceNote = h('span', {});
    const describeSource = () => replace(sourceNote, isNew ? t('source.new')
      : item.source === 'custom' ? (item.updatedAt ? t('source.custom', { when: fmtDateTime(item.updatedAt) }) : t('source.customNoDate'))
        : t(`source.${item.source}`));
    describeSource();
    const hint = h('span', {}, `${languageName(item.language)} · `, sourceNote,
      item.requiredPlaceholders.length ? ['. ', t('required', { list: placeholderList(item.requiredPlaceholders) })] : null);
    // A new language starts from the German text: it is German (lang) until it is saved as the translation.
    const text = field({ label: t('textLabel', { kind: kindLabel(item.kind), language: item.language }), name: key, type: 'textarea', rows: 4,
      value: item.body, hint, attrs: { maxlength: '1000', lang: isNew ? 'de' : item.language, spellcheck: 'true', dir: 'auto' } });
    const counter = h('p', { class: 'sms-counter', 'aria-live': 'polite', id: id('counter') });
    text.input.setAttribute('aria-describedby', `${text.input.getAttribute('aria-describedby') || ''} ${counter.id}`.trim());
    const liveProblems = h('div', { class: 'sms-problems', 'aria-live': 'polite' });
    // The newest preview: the text it was for and its answer (null while none).
    let preview = null;

    function showCount(segments, budget, encoding) {
      counter.textContent = t('counter', { segments, budget, encoding: ENCODINGS[encoding] || encoding });
      counter.classList.toggle('is-over', segments > budget);
      counter.dataset.encoding = encoding;
    }
    function showProblems(list) {
      replace(liveProblems, list.length ? [h('p', { class: 'sms-problems-title' }, t('problemsTitle')), h('ul', {}, list.map((m) => h('li', {}, m)))] : null);
    }
    showCount(item.segments, item.segmentBudget, item.encoding);

    let timer = null, controller = null;
    async function runPreview() {
      timers.delete(timer);
      controller?.abort();
      controllers.delete(controller);
      if (!previewAvailable) return;
      const body = text.input.value;
      if (!body.trim()) { preview = { body, problems: [t('missing.body')] }; showProblems(preview.problems); return; }
      controller = new AbortController();
      controllers.add(controller);
      const mine = controller;
      counter.classList.add('is-updating');
      try {
        const answer = await api('POST', `/api/v1/sms/templates/${item.kind}/${item.language}/preview`, { body: { body }, signal: mine.signal });
        if (mine.signal.aborted) return;
        showCount(answer.segments, answer.segmentBudget, answer.encoding);
        const vars = { body, segments: answer.segments, segmentBudget: answer.segmentBudget };
        preview = { body, problems: (answer.problems || []).map((p) => problemText(p, item, vars)) };
        showProblems(preview.problems);
      } catch (e) {
        if (e.name === 'AbortError') return;
        if (e instanceof ApiError && (e.status === 404 || e.status === 405) && e.code !== 'invalid_language') {
          // This server does not count while typing yet: say so once, check when saving.
          previewAvailable = false;
          for (const other of editors.values()) other.unavailable();
        } else {
          preview = null;
          showProblems([adminText(e)]);
        }
      } finally {
        controllers.delete(mine);
        if (controller === mine) counter.classList.remove('is-updating');
      }
    }
    const schedule = () => {
      clearTimeout(timer);
      timers.delete(timer);
      timer = setTimeout(runPreview, PREVIEW_DELAY_MS);
      timers.add(timer);
    };
    text.input.addEventListener('input', () => { problems.clear(); schedule(); });

    const save = h('button', { type: 'submit', class: 'button' }, t('save'), hidden(` (${kindLabel(item.kind)}, ${item.language})`));
    const resetButton = h('button', { type: 'button', class: 'button secondary', on: { click: reset } });
    const drawReset = () => {
      replace(resetButton, BUILT_IN.includes(item.language) ? t('reset') : t('remove'), hidden(` (${kindLabel(item.kind)}, ${item.language})`));
      resetButton.hidden = isNew || item.source !== 'custom';
    };
    drawReset();

    async function reset() {
      edStatus.clear();
      const builtIn = BUILT_IN.includes(item.language);
      const vars = { kind: kindLabel(item.kind), language: item.language };
      const ok = await confirmStep(confirmWrap, {
        question: t(builtIn ? 'confirmReset' : 'confirmRemove', vars),
        detail: builtIn ? null : t('confirmRemoveDetail'),
        confirm: t(builtIn ? 'confirmResetButton' : 'confirmRemoveButton'),
      });
      if (!ok) return;
      try {
        await api('DELETE', `/api/v1/sms/templates/${item.kind}/${item.language}`);
        await load();
        // Only this editor changes: what is being typed in the others stays.
        clearTimeout(timer);
        controller?.abort();
        const fresh = list.items.find((i) => i.kind === item.kind && i.language === item.language);
        const again = fresh ? editor(fresh) : null;
        if (again) form.replaceWith(again.form); else { editors.delete(key); form.remove(); }
        if (again) again.textarea.focus();
        status.say('success', t(builtIn ? 'resetDone' : 'removed', vars));
      } catch (e) {
        if (e.name === 'AbortError') return;
        edStatus.say('error', adminText(e));
      }
    }

    const form = h('form', { novalidate: true, class: 'sms-editor' },
      problems.summary, text.wrap, counter, liveProblems,
      h('div', { class: 'button-row' }, save, resetButton),
      confirmWrap, edStatus.el);

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      edStatus.clear();
      const body = text.input.value;
      if (!body.trim()) { problems.show([{ message: t('missing.body'), field: text }]); return; }
      // The server's own preview already refused this very text: say why without asking again.
      if (preview && preview.body === body && preview.problems.length) {
        showProblems([]);
        problems.show(preview.problems.map((message) => ({ message, field: text })));
        return;
      }
      busy(save, async () => {
        try {
          const saved = await api('PUT', `/api/v1/sms/templates/${item.kind}/${item.language}`, { body: { body } });
          Object.assign(item, saved);
          isNew = false;
          problems.clear();
          showProblems([]);
          text.input.value = saved.body;
          text.input.lang = item.language;
          showCount(saved.segments, saved.segmentBudget, saved.encoding);
          describeSource();
          drawReset();
          edStatus.say('success', t('saved', { kind: kindLabel(item.kind), language: item.language }));
        } catch (e) {
          if (e.name === 'AbortError') return;
          const vars = { body, ...(e.body || {}) };
          showProblems([]);
          problems.show([{ message: e instanceof ApiError && e.field === 'body' ? problemText({ error: e.code, message: e.message }, item, vars) : adminText(e), field: text }]);
        }
      });
    });

    const entry = {
      form,
      textarea: text.input,
      preview: () => runPreview(),
      unavailable: () => { showProblems([]); counter.classList.add('is-stale'); counter.title = t('counterUnavailable'); replace(liveProblems, h('p', { class: 'hint' }, t('counterUnavailable'))); },
    };
    editors.set(key, entry);
    return entry;
  }

  function draw() {
    editors.clear();
    const kinds = [...new Set(list.items.map((i) => i.kind))];
    replace(content, kinds.map((kind) => {
      const headingId = id('kind');
      return h('section', { class: 'sms-kind', 'aria-labelledby': headingId, dataset: { kind } },
        h('h3', { id: headingId }, kindLabel(kind)),
        h('p', { class: 'hint' }, t(`kind.${kind}.hint`)),
        h('div', { class: 'sms-editors' }, list.items.filter((i) => i.kind === kind)
          .sort((a, b) => sortLanguages(a.language, b.language)).map((item) => editor(item).form)));
    }));
  }

  function addForm() {
    const problems = formProblems({ codes: CODES });
    const kinds = [...new Set(list.items.map((i) => i.kind))];
    const kind = field({ label: t('kind'), name: 'kind', options: kinds.map((k) => [k, kindLabel(k)]) });
    const code = field({ label: t('languageCode'), name: 'language', hint: t('languageCodeHint'), autocomplete: 'off',
      attrs: { class: 'short', maxlength: '2', spellcheck: 'false', autocapitalize: 'none' } });
    const submit = h('button', { type: 'submit', class: 'button secondary' }, t('add'));
    const form = h('form', { novalidate: true, class: 'admin-form' },
      h('h3', {}, t('addHeading')), h('p', {}, t('addIntro')),
      problems.summary, kind.wrap, code.wrap, h('div', { class: 'button-row' }, submit));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      status.clear();
      const language = code.input.value.trim().toLowerCase();
      if (!/^[a-z]{2}$/.test(language)) { problems.show([{ message: t('missing.language'), field: code }]); return; }
      problems.clear();
      const k = kind.input.value;
      const vars = { kind: kindLabel(k), language };
      const existing = editors.get(`${k}/${language}`);
      if (existing) {
        status.say('info', t('exists', vars));
        existing.textarea.focus();
        return;
      }
      // A new editor in the kind's section, starting from the German text (it has the placeholders).
      const german = list.items.find((i) => i.kind === k && i.language === 'de');
      const item = { ...german, language, source: 'fallback', updatedAt: null };
      const entry = editor(item, { isNew: true });
      content.querySelector(`section[data-kind="${k}"] .sms-editors`).append(entry.form);
      code.input.value = '';
      status.say('success', t('addedEditor', vars));
      entry.textarea.focus();
      entry.preview();
    });
    return form;
  }

  await load();
  draw();
  panel.append(
    h('h2', {}, t('heading')),
    h('p', {}, t('intro')),
    h('p', {}, t('budgetIntro', { budget: list.segmentBudget })),
    status.el,
    content,
    addForm());
}
