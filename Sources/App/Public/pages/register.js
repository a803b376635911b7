// Register an application (POST /api/v1/applications). While the caseworker types, the server's
// preview (POST /api/v1/applications/preview) shows how the mobile number will be stored, what the
// fee is, and the problems of fields the caseworker has already left. Submitting sends an
// Idempotency-Key (the same one for a retry of the same form) and opens the letter.

import { h, field, radios, errorSummary, notice } from '../dom.js';
import { api, idempotencyKey, ApiError } from '../api.js';
import { makeT, fmtMoney, languageOptions, errorText } from '../i18n.js';

export const css = true;

const strings = {
  de: {
    title: 'Antrag erfassen',
    intro: 'Nach dem Speichern erhalten Sie den Brief für die antragstellende Person mit Vorgangsnummer und QR-Code.',
    noSites: 'Es gibt noch keinen Standort. Eine Person mit Leitungsrolle legt Standorte unter „Verwaltung“ an.',
    'section.document': 'Dokument',
    'section.person': 'Person',
    'section.pickup': 'Abholung',
    'section.fee': 'Gebühr',
    site: 'Standort',
    choose: 'Bitte wählen',
    documentType: 'Dokumentart',
    issuance: 'Ausstellung',
    familyName: 'Familienname',
    givenNames: 'Vornamen',
    dateOfBirth: 'Geburtsdatum',
    dateOfBirthHint: 'Wie im Dokument: TT.MM.JJJJ, z. B. 12.08.1984. Unbekannter Tag oder Monat: 00, z. B. 00.00.1985.',
    pickupMethod: 'Wie wird das Dokument abgeholt?',
    mobileNumber: 'Mobilnummer',
    mobileHint: 'Für die SMS mit der PIN. Deutsche Nummern mit 0 (z. B. 0151 23456789), andere mit + und Ländervorwahl (z. B. +43 664 1234567).',
    storedAs: 'Wird gespeichert als {number}',
    smsLanguage: 'Sprache der SMS',
    smsLanguageHint: 'Gibt es keinen Text in dieser Sprache, kommt die SMS auf Deutsch und Englisch.',
    accessible: 'Barrierefreies Fach (gut erreichbare Höhe)',
    can: 'CAN der alten Karte (optional)',
    canHint: 'Die 6-stellige Zugangsnummer vorne auf der alten Karte. Die Box prüft damit bei der Abholung die alte Karte; gespeichert wird nur ein Prüfwert.',
    exemption: 'Gebührenbefreiung',
    noExemption: 'Keine Befreiung',
    settled: 'Die Gebühr ist bezahlt',
    settledHint: 'An der Abholbox kann man nicht bezahlen: Bevor das Fach beladen wird, muss die Gebühr bezahlt sein.',
    fee: 'Gebühr: {amount}',
    feeMinor: 'Gebühr: {amount} (unter 18)',
    feeExempt: 'Gebühr: {amount} (befreit: {reason})',
    feeUnknown: 'Die Gebühr steht fest, sobald das Geburtsdatum eingegeben ist.',
    'reason.sgb_ii': 'Bürgergeld',
    'reason.sgb_xii': 'Sozialhilfe',
    'reason.asylblg': 'AsylbLG',
    'reason.recognised_refugee': 'anerkannter Flüchtling',
    more: 'Vorgangsnummer aus dem Fachverfahren (selten nötig)',
    vorgangsnummer: 'Eigene Vorgangsnummer (optional)',
    vorgangsnummerHint: 'Nur wenn die Nummer aus dem Fachverfahren übernommen werden soll. Sonst vergibt pickupbox eine Nummer.',
    submit: 'Antrag speichern und Brief erstellen',
    saving: 'Wird gespeichert …',
    'err.siteId.missing_field': 'Wählen Sie den Standort aus.',
    'err.siteId.unknown_site': 'Diesen Standort gibt es nicht mehr. Bitte laden Sie die Seite neu.',
    'err.familyName.missing_field': 'Geben Sie den Familiennamen ein.',
    'err.givenNames.missing_field': 'Geben Sie die Vornamen ein.',
    'err.dateOfBirth.missing_field': 'Geben Sie das Geburtsdatum ein.',
    'err.mobileNumber.missing_field': 'Geben Sie die Mobilnummer ein – für die Abholbox kommt die PIN per SMS.',
  },
  en: {
    title: 'Register application',
    intro: 'After saving you get the letter for the applicant with the Vorgangsnummer (reference number) and the QR code.',
    noSites: 'There is no site yet. A supervisor adds sites under “Administration”.',
    'section.document': 'Document',
    'section.person': 'Person',
    'section.pickup': 'Pickup',
    'section.fee': 'Fee',
    site: 'Site',
    choose: 'Please choose',
    documentType: 'Document type',
    issuance: 'Issuance',
    familyName: 'Family name',
    givenNames: 'Given names',
    dateOfBirth: 'Date of birth',
    dateOfBirthHint: 'As on the document: DD.MM.YYYY, e.g. 12.08.1984. Unknown day or month: 00, e.g. 00.00.1985.',
    pickupMethod: 'How will the document be collected?',
    mobileNumber: 'Mobile number',
    mobileHint: 'For the text message with the PIN. German numbers with 0 (e.g. 0151 23456789), others with + and the country code (e.g. +43 664 1234567).',
    storedAs: 'Will be stored as {number}',
    smsLanguage: 'Language of the text message',
    smsLanguageHint: 'If there is no text in this language, the message comes in German and English.',
    accessible: 'Accessible compartment (easy-to-reach height)',
    can: 'CAN of the old card (optional)',
    canHint: 'The 6-digit access number on the front of the old card. The box checks the old card with it at pickup; only a check value is stored.',
    exemption: 'Fee exemption',
    noExemption: 'No exemption',
    settled: 'The fee has been paid',
    settledHint: 'The pickup box cannot take payment: the fee must be paid before the document goes into the box.',
    fee: 'Fee: {amount}',
    feeMinor: 'Fee: {amount} (under 18)',
    feeExempt: 'Fee: {amount} (exempt: {reason})',
    feeUnknown: 'The fee is known once the date of birth is entered.',
    'reason.sgb_ii': 'citizen\'s income',
    'reason.sgb_xii': 'social assistance',
    'reason.asylblg': 'AsylbLG',
    'reason.recognised_refugee': 'recognised refugee',
    more: 'Vorgangsnummer from the specialist software (rarely needed)',
    vorgangsnummer: 'Own Vorgangsnummer (optional)',
    vorgangsnummerHint: 'Only to take over the number from the specialist software. Otherwise pickupbox assigns one.',
    submit: 'Save application and create letter',
    saving: 'Saving …',
    'err.siteId.missing_field': 'Select the site.',
    'err.siteId.unknown_site': 'This site no longer exists. Please reload the page.',
    'err.familyName.missing_field': 'Enter the family name.',
    'err.givenNames.missing_field': 'Enter the given names.',
    'err.dateOfBirth.missing_field': 'Enter the date of birth.',
    'err.mobileNumber.missing_field': 'Enter the mobile number – for the pickup box the PIN comes by text message.',
  },
};
const t = makeT(strings);
const KNOWN = new Set(Object.keys(strings.de));

/** This page's words for some of the server's problem codes (the others are shared, see errorText). */
const CODES = {
  de: {
    too_long: 'Das ist zu lang (höchstens 200 Zeichen).',
    not_applicable: 'Eine CAN gibt es nur bei einer Verlängerung.',
    invalid_can: 'Die CAN hat genau 6 Ziffern (vorne auf der alten Karte).',
    duplicate_vorgangsnummer: 'Diese Vorgangsnummer ist schon vergeben.',
  },
  en: {
    too_long: 'This is too long (at most 200 characters).',
    not_applicable: 'A CAN only belongs to a renewal.',
    invalid_can: 'The CAN has exactly 6 digits (on the front of the old card).',
    duplicate_vorgangsnummer: 'This Vorgangsnummer is already in use.',
  },
};

const DOCUMENT_TYPES = ['eat', 'travel_document', 'passport', 'id_card'];
const EXEMPTIONS = ['sgb_ii', 'sgb_xii', 'asylblg', 'recognised_refugee'];
const SITE_KEY = 'pickupbox.register.site';
const PREVIEW_DELAY_MS = 250;

/** The message for a problem of `fieldName` with the server's `code`: for this field, else for the code. */
function problemText(fieldName, code) {
  const specific = `err.${fieldName}.${code}`;
  return KNOWN.has(specific) ? t(specific) : errorText(code, { codes: CODES });
}

export async function render(ctx) {
  ctx.setTitle(t('title'));
  const heading = h('h1', {}, t('title'));
  ctx.main.append(heading);
  const sites = await api('GET', '/api/v1/sites', { signal: ctx.signal });
  if (!sites.length) {
    ctx.main.append(notice('warning', h('p', {}, t('noSites'))));
    return;
  }

  // --- the fields ---
  let rememberedSite = '';
  try { rememberedSite = (localStorage.getItem(SITE_KEY) || '').toLowerCase(); } catch { /* ignore */ }
  // Ids are compared in lower case: a site remembered from a server that sent upper case still counts.
  const remembered = sites.find((s) => s.id.toLowerCase() === rememberedSite);
  const siteValue = sites.length === 1 ? sites[0].id : (remembered ? remembered.id : '');
  const f = {
    siteId: field({ label: t('site'), name: 'siteId', required: true, value: siteValue,
      options: [...(sites.length > 1 ? [['', t('choose')]] : []), ...sites.map((s) => [s.id, `${s.name} – ${s.address}`])] }),
    documentType: field({ label: t('documentType'), name: 'documentType', value: 'eat', options: DOCUMENT_TYPES.map((d) => [d, t(`doc.${d}`)]) }),
    issuance: radios({ legend: t('issuance'), name: 'issuance', value: 'first', options: [['first', t('issuance.first')], ['renewal', t('issuance.renewal')]] }),
    oldDocumentCan: field({ label: t('can'), hint: t('canHint'), inputmode: 'numeric', autocomplete: 'off',
      // No name: keepForm does not copy the CAN into sessionStorage.
      attrs: { maxlength: 6, class: 'short', spellcheck: 'false' } }),
    familyName: field({ label: t('familyName'), name: 'familyName', required: true, autocomplete: 'off', attrs: { spellcheck: 'false' } }),
    givenNames: field({ label: t('givenNames'), name: 'givenNames', required: true, autocomplete: 'off', attrs: { spellcheck: 'false' } }),
    dateOfBirth: field({ label: t('dateOfBirth'), name: 'dateOfBirth', hint: t('dateOfBirthHint'), required: true, autocomplete: 'off', inputmode: 'numeric', attrs: { class: 'short', spellcheck: 'false' } }),
    pickupMethod: radios({ legend: t('pickupMethod'), name: 'pickupMethod', value: 'box', options: [['box', t('pickup.box')], ['counter', t('pickup.counter')]] }),
    mobileNumber: field({ label: t('mobileNumber'), name: 'mobileNumber', inputmode: 'tel', hint: t('mobileHint'), required: true, autocomplete: 'off', attrs: { spellcheck: 'false' } }),
    smsLanguage: field({ label: t('smsLanguage'), name: 'smsLanguage', hint: t('smsLanguageHint'), value: 'de', options: languageOptions() }),
    needsAccessibleCompartment: field({ label: t('accessible'), name: 'needsAccessibleCompartment', type: 'checkbox' }),
    feeExemption: field({ label: t('exemption'), name: 'feeExemption', value: '', options: [['', t('noExemption')], ...EXEMPTIONS.map((e) => [e, t(`exemption.${e}`)])] }),
    // A confirmation: never kept for a later visit.
    feeSettled: field({ label: t('settled'), name: 'feeSettled', type: 'checkbox', hint: t('settledHint'), attrs: { 'data-no-keep': true } }),
    vorgangsnummer: field({ label: t('vorgangsnummer'), name: 'vorgangsnummer', hint: t('vorgangsnummerHint'), autocomplete: 'off', attrs: { spellcheck: 'false', autocapitalize: 'characters' } }),
  };
  const storedAs = h('p', { class: 'register-note' });
  f.mobileNumber.wrap.append(storedAs);
  const feeLine = h('p', { class: 'register-fee register-fee-unknown' }, t('feeUnknown'));
  // The number and the fee follow every keystroke on screen; screen readers hear them once a field is
  // left or a choice made, not at every keystroke.
  const announcer = h('p', { class: 'visually-hidden', role: 'status' });
  const more = h('details', { class: 'register-more' }, h('summary', {}, t('more')), f.vorgangsnummer.wrap);
  const summary = h('div', { class: 'error-summary', tabindex: '-1', hidden: true });
  const submit = h('button', { type: 'submit', class: 'button' }, t('submit'));
  const boxOnly = [f.mobileNumber, f.smsLanguage, f.needsAccessibleCompartment];

  const form = h('form', { class: 'register-form', novalidate: true },
    h('h2', {}, t('section.document')),
    f.siteId.wrap, f.documentType.wrap, f.issuance.wrap, f.oldDocumentCan.wrap,
    h('h2', {}, t('section.person')),
    h('div', { class: 'inline-fields' }, f.familyName.wrap, f.givenNames.wrap),
    f.dateOfBirth.wrap,
    h('h2', {}, t('section.pickup')),
    f.pickupMethod.wrap, ...boxOnly.map((x) => x.wrap),
    h('h2', {}, t('section.fee')),
    feeLine, f.feeExemption.wrap, f.feeSettled.wrap,
    more,
    h('div', { class: 'button-row' }, submit));
  ctx.main.append(h('p', {}, t('intro')), summary, form, announcer);

  const isBox = () => f.pickupMethod.value() === 'box';
  const isRenewal = () => f.issuance.value() === 'renewal';
  const text = (x) => x.input.value.trim();

  /** The request body: what is filled in and applies to the choices made (preview and create). */
  function body() {
    const b = { documentType: f.documentType.input.value, issuance: f.issuance.value(), pickupMethod: f.pickupMethod.value(),
      feeSettled: f.feeSettled.input.checked };
    if (f.siteId.input.value) b.siteId = f.siteId.input.value;
    for (const name of ['familyName', 'givenNames', 'dateOfBirth', 'vorgangsnummer']) if (text(f[name])) b[name] = text(f[name]);
    if (f.feeExemption.input.value) b.feeExemption = f.feeExemption.input.value;
    if (isRenewal() && text(f.oldDocumentCan)) b.oldDocumentCan = text(f.oldDocumentCan);
    if (isBox()) {
      if (text(f.mobileNumber)) b.mobileNumber = text(f.mobileNumber);
      b.smsLanguage = f.smsLanguage.input.value;
      b.needsAccessibleCompartment = f.needsAccessibleCompartment.input.checked;
    }
    return b;
  }

  /** Required fields left empty: the server's preview treats an absent field as not yet typed. */
  function emptyRequired() {
    const names = ['siteId', 'familyName', 'givenNames', 'dateOfBirth', ...(isBox() ? ['mobileNumber'] : [])];
    return names.filter((name) => !f[name].input.value.trim()).map((name) => ({ field: name, error: 'missing_field' }));
  }

  // --- live preview ---
  let preview = null; // the server's last answer
  let previewWorks = true; // false when the server does not know the preview yet
  let timer = null;
  let inflight = null;
  let expired = false; // the server answered 401: api.js is on its way to the login page
  let submitted = false; // after a submit, every field shows its problems, empty ones too
  const touched = new Set(); // fields the caseworker has left once

  function showPreview() {
    const number = isBox() && text(f.mobileNumber) && preview?.mobileNumberDisplay;
    storedAs.textContent = number ? t('storedAs', { number }) : '';
    storedAs.hidden = !number;
    const fee = preview?.fee;
    feeLine.classList.toggle('register-fee-unknown', !fee);
    if (!fee) feeLine.textContent = t('feeUnknown');
    else if (fee.exemption) feeLine.textContent = t('feeExempt', { amount: fmtMoney(fee.amountCents), reason: t(`reason.${fee.exemption}`) });
    else feeLine.textContent = t(fee.minor ? 'feeMinor' : 'fee', { amount: fmtMoney(fee.amountCents) });
    showProblems();
  }

  /** Each field shows its problem once the caseworker has left it (or submitted). */
  function showProblems() {
    const problems = [...emptyRequired(), ...(preview?.problems || [])];
    for (const [name, x] of Object.entries(f)) {
      const p = problems.find((q) => q.field === name);
      const show = p && (submitted || (touched.has(name) && p.error !== 'missing_field'));
      x.setError(show ? problemText(name, p.error) : null);
    }
  }

  /** Asks the server now (aborting the previous question); resolves to the answer or null. */
  function runPreview() {
    clearTimeout(timer);
    timer = null;
    inflight?.abort();
    if (!previewWorks) return Promise.resolve(null);
    const controller = new AbortController();
    inflight = controller;
    return api('POST', '/api/v1/applications/preview', { body: body(), signal: controller.signal }).then((answer) => {
      if (inflight === controller) inflight = null;
      preview = answer;
      showPreview();
      return answer;
    }, (e) => {
      if (e.name === 'AbortError') return null;
      if (e instanceof ApiError && e.status === 401) expired = true;
      if (e instanceof ApiError && (e.status === 404 || e.status === 405)) previewWorks = false;
      return null;
    });
  }
  const schedulePreview = () => { clearTimeout(timer); timer = setTimeout(runPreview, PREVIEW_DELAY_MS); };
  ctx.onLeave(() => { clearTimeout(timer); inflight?.abort(); });

  function showChoices() {
    for (const x of boxOnly) x.wrap.hidden = !isBox();
    f.oldDocumentCan.wrap.hidden = !isRenewal();
  }

  let announced = '';
  function announce() {
    const text = [storedAs.hidden ? '' : storedAs.textContent, feeLine.textContent].filter(Boolean).join(' ');
    if (text !== announced) { announced = text; announcer.textContent = text; }
  }

  form.addEventListener('input', () => { showChoices(); showProblems(); schedulePreview(); });
  // A choice made or a field left: ask now and say the answer.
  form.addEventListener('change', () => { showChoices(); runPreview().then((answer) => { if (answer) announce(); }); });
  form.addEventListener('focusout', (event) => {
    const name = Object.keys(f).find((k) => f[k].input === event.target || f[k].wrap.contains(event.target));
    if (!name) return;
    touched.add(name);
    // What was just typed has not been asked about yet: ask at once instead of waiting.
    if (timer) runPreview(); else showProblems();
  });

  // --- submit ---
  let key = null;
  let keyBody = null;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      await register();
    } finally {
      submit.disabled = false;
    }
  });

  async function register() {
    await runPreview(); // also notices an expired session before anything is lost
    if (expired || ctx.signal.aborted) return;
    submitted = true;
    showProblems();
    const problems = [...emptyRequired(), ...(preview?.problems || [])].filter((p) => f[p.field]);
    if (problems.length) { showSummary(problems); return; }
    const b = body();
    const json = JSON.stringify(b);
    if (json !== keyBody) { key = idempotencyKey(); keyBody = json; }
    try {
      const created = await api('POST', '/api/v1/applications', { body: b, headers: { 'Idempotency-Key': key } });
      kept.clear();
      try { localStorage.setItem(SITE_KEY, b.siteId); } catch { /* ignore */ }
      ctx.navigate(`/applications/${created.id}/letter?registered=1`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return; // api.js sends the caseworker to the login; the form is kept
      if (e instanceof ApiError && e.code === 'idempotency_key_reused') keyBody = null;
      if (e instanceof ApiError && e.field && f[e.field]) {
        f[e.field].setError(problemText(e.field, e.code));
        showSummary([{ field: e.field, error: e.code }]);
      } else {
        errorSummary(summary, errorText(e, { codes: CODES }));
      }
    }
  }

  /** The error summary, in the order of the form, one line per field. */
  function showSummary(problems) {
    const order = Object.keys(f);
    const seen = new Set();
    const items = problems.filter((p) => f[p.field] && !seen.has(p.field) && seen.add(p.field))
      .sort((x, y) => order.indexOf(x.field) - order.indexOf(y.field))
      .map((p) => ({ message: problemText(p.field, p.error), input: f[p.field].input }));
    if (items.some((i) => i.input === f.vorgangsnummer.input)) more.open = true;
    errorSummary(summary, t('common.errorSummary'), items);
  }

  const kept = ctx.keepForm(form, 'register');
  if (f.vorgangsnummer.input.value) more.open = true;
  showChoices();
  if (kept.restored) runPreview();
  else schedulePreview();
}
