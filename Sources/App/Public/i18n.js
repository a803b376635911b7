// German and English: the language is chosen once, remembered in localStorage, and applied to
// every page. Each page module brings its own strings: makeT({de: {...}, en: {...}}).

const KEY = 'pickupbox.lang';
export const LANGUAGES = ['de', 'en'];

let current = (() => {
  try {
    const stored = localStorage.getItem(KEY);
    if (LANGUAGES.includes(stored)) return stored;
  } catch { /* storage may be blocked */ }
  return (navigator.language || 'de').toLowerCase().startsWith('en') ? 'en' : 'de';
})();

export function lang() { return current; }

export function setLang(value) {
  if (!LANGUAGES.includes(value)) return;
  current = value;
  try { localStorage.setItem(KEY, value); } catch { /* not remembered, still switched */ }
  document.documentElement.lang = value;
}

document.documentElement.lang = current;

/**
 * Runs `build` (synchronous) with every text and format of this module in `value` ('de' or 'en'),
 * for a piece written in another language than the screen (the applicant's letter); not remembered.
 */
export function inLanguage(value, build) {
  const before = current;
  current = LANGUAGES.includes(value) ? value : 'de';
  try { return build(); } finally { current = before; }
}

/** Fills `{name}` placeholders. */
function fill(text, vars) {
  return vars ? text.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : text;
}

/** A translation function for one page's strings, falling back to German, then to the key. */
export function makeT(strings) {
  return (key, vars) => {
    const table = strings[current] || strings.de;
    const text = table[key] ?? strings.de[key] ?? shared[current][key] ?? shared.de[key];
    if (text === undefined) {
      console.warn(`missing text: ${key}`);
      return key;
    }
    return fill(text, vars);
  };
}

// Strings used by several pages: states, document types, four-eyes requests, common buttons, and the API's error codes
// (`code.<code>`, read through errorText()).
const shared = {
  de: {
    'state.registered': 'Erfasst',
    'state.in_production': 'In Produktion',
    'state.delivered': 'Geliefert',
    'state.assigned': 'Fach zugewiesen',
    'state.ready_in_box': 'Abholbereit in der Box',
    'state.collected': 'Abgeholt',
    'state.retrieval_due': 'Aus der Box zu entnehmen',
    'state.ready_at_counter': 'Abholbereit am Schalter',
    'state.cancelled': 'Storniert',
    'doc.eat': 'Elektronischer Aufenthaltstitel (eAT)',
    'doc.travel_document': 'Reiseausweis',
    'doc.passport': 'Reisepass',
    'doc.id_card': 'Personalausweis',
    'pickup.box': 'Abholbox',
    'pickup.counter': 'Schalter',
    'issuance.first': 'Erstausstellung',
    'issuance.renewal': 'Verlängerung / Neuausstellung',
    'exemption.sgb_ii': 'Bürgergeld (SGB II)',
    'exemption.sgb_xii': 'Sozialhilfe (SGB XII)',
    'exemption.asylblg': 'Leistungen nach AsylbLG',
    'exemption.recognised_refugee': 'Anerkannter Flüchtling',
    'approvalKind.mobile_number_change': 'Neue Mobilnummer',
    'approvalKind.pin_reissue': 'Neue PIN an eine geänderte Nummer',
    'approvalState.pending': 'Wartet auf Freigabe',
    'approvalState.approved': 'Freigegeben',
    'approvalState.rejected': 'Abgelehnt',
    'approvalState.superseded': 'Ersetzt',
    'common.cancel': 'Abbrechen',
    'common.print': 'Drucken',
    'common.loading': 'Wird geladen …',
    'common.yes': 'Ja',
    'common.no': 'Nein',
    'common.none': '—',
    'common.previous': 'Zurück',
    'common.next': 'Weiter',
    'common.errorSummary': 'Bitte prüfen Sie Ihre Angaben',
    'code.network': 'Der Server ist nicht erreichbar. Bitte versuchen Sie es gleich noch einmal.',
    'code.unexpected': 'Etwas ist schiefgegangen (Fehler {code}). Bitte versuchen Sie es noch einmal.',
    'code.forbidden': 'Ihre Rolle erlaubt das nicht.',
    'code.not_found': 'Nicht gefunden.',
    'code.rate_limited': 'Zu viele Versuche. Bitte warten Sie {seconds} Sekunden.',
    'code.database_unavailable': 'Die Datenbank ist gerade nicht erreichbar. Bitte versuchen Sie es gleich noch einmal.',
    'code.illegal_transition': 'Das ist im aktuellen Status ({state}) nicht möglich.',
    'code.personal_data_erased': 'Die personenbezogenen Daten dieses Antrags sind nach der Löschfrist gelöscht; sie können nicht wieder eingetragen werden.',
    'code.csrf_token_invalid': 'Ihre Sitzung ist nicht mehr gültig. Bitte laden Sie die Seite neu.',
    'code.missing_field': 'Bitte füllen Sie dieses Feld aus.',
    'code.too_long': 'Das ist zu lang.',
    'code.invalid_characters': 'Das enthält Zeichen, die nicht erlaubt sind (Steuer- oder Richtungszeichen).',
    'code.invalid_value': 'Bitte wählen Sie einen der angebotenen Werte.',
    'code.invalid_date': 'Bitte geben Sie ein gültiges Datum an, zum Beispiel 31.01.2026.',
    'code.invalid_phone_number': 'Das ist keine gültige Mobilnummer. Deutsche Nummern beginnen mit 0, andere mit + und der Ländervorwahl.',
    'code.non_ascii_digits': 'Die Nummer enthält andere Ziffern als 0–9. Bitte geben Sie sie mit den Ziffern 0–9 ein.',
    'code.unsupported_country_code': 'An Nummern mit dieser Ländervorwahl können wir keine SMS senden.',
    'code.not_a_mobile_number': 'Das ist keine deutsche Mobilnummer (015…, 016…, 017…). Die SMS braucht ein Mobiltelefon.',
    'code.invalid_language': 'Bitte wählen Sie eine Sprache aus der Liste.',
    'code.fee_not_settled': 'Die Gebühr ist noch nicht bezahlt.',
    'code.invalid_date_of_birth': 'Dieses Geburtsdatum gibt es nicht oder es liegt in der Zukunft. Schreiben Sie es wie im Dokument, z. B. 12.08.1984 oder 00.00.1985.',
    'code.invalid_vorgangsnummer': 'Diese Vorgangsnummer ist ungültig: 4 bis 40 Zeichen aus A–Z, 0–9, Punkt, Schrägstrich und Bindestrich.',
  },
  en: {
    'state.registered': 'Registered',
    'state.in_production': 'In production',
    'state.delivered': 'Delivered',
    'state.assigned': 'Compartment assigned',
    'state.ready_in_box': 'Ready in the box',
    'state.collected': 'Collected',
    'state.retrieval_due': 'To be taken out of the box',
    'state.ready_at_counter': 'Ready at the counter',
    'state.cancelled': 'Cancelled',
    'doc.eat': 'Electronic residence permit (eAT)',
    'doc.travel_document': 'Travel document',
    'doc.passport': 'Passport',
    'doc.id_card': 'Identity card',
    'pickup.box': 'Pickup box',
    'pickup.counter': 'Counter',
    'issuance.first': 'First issuance',
    'issuance.renewal': 'Renewal / reissue',
    'exemption.sgb_ii': 'Citizen\'s income (SGB II)',
    'exemption.sgb_xii': 'Social assistance (SGB XII)',
    'exemption.asylblg': 'Asylum seekers\' benefits (AsylbLG)',
    'exemption.recognised_refugee': 'Recognised refugee',
    'approvalKind.mobile_number_change': 'New mobile number',
    'approvalKind.pin_reissue': 'New PIN to a changed number',
    'approvalState.pending': 'Awaiting approval',
    'approvalState.approved': 'Approved',
    'approvalState.rejected': 'Rejected',
    'approvalState.superseded': 'Superseded',
    'common.cancel': 'Cancel',
    'common.print': 'Print',
    'common.loading': 'Loading …',
    'common.yes': 'Yes',
    'common.no': 'No',
    'common.none': '—',
    'common.previous': 'Previous',
    'common.next': 'Next',
    'common.errorSummary': 'Please check what you entered',
    'code.network': 'The server cannot be reached. Please try again in a moment.',
    'code.unexpected': 'Something went wrong (error {code}). Please try again.',
    'code.forbidden': 'Your role does not allow this.',
    'code.not_found': 'Not found.',
    'code.rate_limited': 'Too many attempts. Please wait {seconds} seconds.',
    'code.database_unavailable': 'The database cannot be reached right now. Please try again in a moment.',
    'code.illegal_transition': 'This is not possible in the current state ({state}).',
    'code.personal_data_erased': 'The personal data of this application was erased after the retention period; it cannot be entered again.',
    'code.csrf_token_invalid': 'Your session is no longer valid. Please reload the page.',
    'code.missing_field': 'Please fill in this field.',
    'code.too_long': 'This is too long.',
    'code.invalid_characters': 'This contains characters that are not allowed (control or text-direction characters).',
    'code.invalid_value': 'Please choose one of the values offered.',
    'code.invalid_date': 'Please give a valid date, for example 31/01/2026.',
    'code.invalid_phone_number': 'This is not a valid mobile number. German numbers start with 0, others with + and the country code.',
    'code.non_ascii_digits': 'The number contains digits other than 0–9. Please type it with the digits 0–9.',
    'code.unsupported_country_code': 'We cannot send text messages to numbers with this country code.',
    'code.not_a_mobile_number': 'This is not a German mobile number (015…, 016…, 017…). The text message needs a mobile phone.',
    'code.invalid_language': 'Please choose a language from the list.',
    'code.fee_not_settled': 'The fee has not been paid yet.',
    'code.invalid_date_of_birth': 'This date of birth does not exist or is in the future. Write it as on the document, e.g. 12.08.1984 or 00.00.1985.',
    'code.invalid_vorgangsnummer': 'This Vorgangsnummer is not valid: 4 to 40 characters from A–Z, 0–9, dot, slash and hyphen.',
  },
};

/** Shared strings (states, document types, …) for the current language. */
export const ts = makeT({ de: {}, en: {} });

const locale = () => (current === 'de' ? 'de-DE' : 'en-GB');
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A date and the zone to read it in: a day (2026-12-03) is that day wherever the browser is, a point
 * in time is read in the authority's zone (Europe/Berlin), not the browser's.
 */
function dateIn(value) {
  const day = typeof value === 'string' && ISO_DAY.test(value);
  return { d: day ? new Date(`${value}T12:00:00Z`) : new Date(value), timeZone: day ? 'UTC' : 'Europe/Berlin' };
}

/** 2026-12-03 or a Date → 03.12.2026 (de) / 3 Dec 2026 (en). */
export function fmtDate(value) {
  if (!value) return '—';
  const { d, timeZone } = dateIn(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return d.toLocaleDateString(locale(), current === 'de'
    ? { day: '2-digit', month: '2-digit', year: 'numeric', timeZone }
    : { day: 'numeric', month: 'short', year: 'numeric', timeZone });
}

/** 2026-11-30 → "30.11." (de) / "30 Nov" (en): chart axes. */
export function fmtDayShort(value) {
  const { d, timeZone } = dateIn(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return d.toLocaleDateString(locale(), current === 'de' ? { day: '2-digit', month: '2-digit', timeZone } : { day: 'numeric', month: 'short', timeZone });
}

/** A point in time in the authority's time zone: 03.12.2026, 14:05. */
export function fmtDateTime(value) {
  if (!value) return '—';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return d.toLocaleString(locale(), { day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Berlin' });
}

/** Euro cents → 100,00 € (de) / €100.00 (en). */
export function fmtMoney(cents) {
  return new Intl.NumberFormat(locale(), { style: 'currency', currency: 'EUR' }).format((cents || 0) / 100);
}

/** 12345 → 12.345 (de) / 12,345 (en). */
export function fmtNumber(n) {
  return new Intl.NumberFormat(locale()).format(n || 0);
}

/** 1.25 → 1,3 (de) / 1.3 (en): at most one decimal. */
export function fmtDecimal(n) {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(n || 0);
}

/** 45 of 60 → 75 % (de) / 75% (en). */
export function fmtPercent(part, whole) {
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 0 }).format(whole ? (part || 0) / whole : 0);
}

/** 1 → Montag / Monday … 7 → Sonntag / Sunday (ISO weekdays). */
export function weekdayName(n) {
  // 1 January 2024 was a Monday.
  return new Date(Date.UTC(2024, 0, n)).toLocaleDateString(locale(), { weekday: 'long', timeZone: 'UTC' });
}

/** A partial date of birth as stored (1985-00-00) → 00.00.1985 (the form on the documents). */
export function fmtDateOfBirth(value) {
  if (!value) return '—';
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  return m ? `${m[3]}.${m[2]}.${m[1]}` : value;
}

/**
 * A person's name from {familyName, givenNames}, each of which may be gone (erased): "Musterfrau,
 * Erika" for lists, "Erika Musterfrau" with `givenFirst` (letters); null when neither is there.
 */
export function personName(person, { givenFirst = false } = {}) {
  const parts = (givenFirst ? [person?.givenNames, person?.familyName] : [person?.familyName, person?.givenNames]).filter(Boolean);
  return parts.length ? parts.join(givenFirst ? ' ' : ', ') : null;
}

// --- SMS languages ---------------------------------------------------------------------------------

/** The languages applicants at German foreigners' authorities most often read; German and English first. */
export const SMS_LANGUAGES = ['de', 'en', 'tr', 'ar', 'ru', 'uk', 'fa', 'ps', 'ku', 'ti', 'so', 'am', 'sq', 'sr', 'hr', 'bs', 'mk',
  'ro', 'bg', 'pl', 'el', 'it', 'es', 'fr', 'pt', 'vi', 'zh', 'hi', 'ur', 'ta', 'ka', 'hy', 'az'];

function displayName(code, inLanguage) {
  try { return new Intl.DisplayNames([inLanguage], { type: 'language' }).of(code) || null; } catch { return null; }
}

/** "tr" → "Türkisch" (de) / "Turkish" (en); the code itself when the browser does not know it. */
export function languageName(code) {
  return displayName(code, current) || code;
}

/**
 * The SMS languages as select options, named in the UI language and in their own ("Türkisch
 * (Türkçe)"): German and English first, the others by name. `also` (a stored choice) is added when
 * it is not in the list.
 */
export function languageOptions(also) {
  const codes = !also || SMS_LANGUAGES.includes(also) ? SMS_LANGUAGES : [...SMS_LANGUAGES, also];
  const label = (code) => {
    const here = languageName(code);
    const own = displayName(code, code);
    return own && own !== here ? `${here} (${own})` : here;
  };
  const [de, en, ...rest] = codes.map((code) => [code, label(code)]);
  return [de, en, ...rest.sort((a, b) => a[1].localeCompare(b[1], current))];
}

// --- errors --------------------------------------------------------------------------------------

/**
 * The sentence for a failed call or a problem code: the page's own text for the code if it has one
 * (`codes` is {de: {code: text}, en: {…}}), else the shared `code.<code>` text, else "something went
 * wrong (code)". Placeholders are filled from the error's body, `{seconds}` (Retry-After), `{state}`
 * (the state's name) and `vars`; unknown ones ({pin} in an SMS text) stay as they are.
 */
export function errorText(error, { codes, vars } = {}) {
  const api = typeof error === 'object' && error !== null && 'status' in error && 'code' in error;
  const code = typeof error === 'string' ? error : api ? error.code : 'unexpected';
  const state = api ? error.body?.state : undefined;
  const values = {
    ...(api ? error.body : {}),
    seconds: (api && error.retryAfter) || 60,
    state: state ? ts(`state.${state}`) : '?',
    code: typeof error === 'string' || api ? code : 'client',
    ...vars,
  };
  const text = codes?.[current]?.[code] ?? codes?.de?.[code] ?? shared[current][`code.${code}`] ?? shared[current]['code.unexpected'];
  return fill(text, values);
}
