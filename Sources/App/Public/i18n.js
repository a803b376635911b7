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

// Strings used by several pages: states, document types, common buttons, error codes.
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
    'common.save': 'Speichern',
    'common.cancel': 'Abbrechen',
    'common.close': 'Schließen',
    'common.print': 'Drucken',
    'common.loading': 'Wird geladen …',
    'common.yes': 'Ja',
    'common.no': 'Nein',
    'common.none': '—',
    'common.previous': 'Zurück',
    'common.next': 'Weiter',
    'common.errorSummary': 'Bitte prüfen Sie Ihre Angaben',
    'error.network': 'Der Server ist nicht erreichbar. Bitte versuchen Sie es gleich noch einmal.',
    'error.unexpected': 'Etwas ist schiefgegangen (Fehler {code}). Bitte versuchen Sie es noch einmal.',
    'error.forbidden': 'Ihre Rolle erlaubt das nicht.',
    'error.not_found': 'Nicht gefunden.',
    'error.rate_limited': 'Zu viele Versuche. Bitte warten Sie {seconds} Sekunden.',
    'error.database_unavailable': 'Die Datenbank ist gerade nicht erreichbar. Bitte versuchen Sie es gleich noch einmal.',
    'error.illegal_transition': 'Das ist im aktuellen Status ({state}) nicht möglich.',
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
    'common.save': 'Save',
    'common.cancel': 'Cancel',
    'common.close': 'Close',
    'common.print': 'Print',
    'common.loading': 'Loading …',
    'common.yes': 'Yes',
    'common.no': 'No',
    'common.none': '—',
    'common.previous': 'Previous',
    'common.next': 'Next',
    'common.errorSummary': 'Please check what you entered',
    'error.network': 'The server cannot be reached. Please try again in a moment.',
    'error.unexpected': 'Something went wrong (error {code}). Please try again.',
    'error.forbidden': 'Your role does not allow this.',
    'error.not_found': 'Not found.',
    'error.rate_limited': 'Too many attempts. Please wait {seconds} seconds.',
    'error.database_unavailable': 'The database cannot be reached right now. Please try again in a moment.',
    'error.illegal_transition': 'This is not possible in the current state ({state}).',
  },
};

/** Shared strings (states, document types, …) for the current language. */
export const ts = makeT({ de: {}, en: {} });

const locale = () => (current === 'de' ? 'de-DE' : 'en-GB');

/** 2026-12-03 or a Date → 03.12.2026 (de) / 3 Dec 2026 (en). Dates without time stay in their day. */
export function fmtDate(value) {
  if (!value) return '—';
  const d = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T12:00:00`) : new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return d.toLocaleDateString(locale(), current === 'de'
    ? { day: '2-digit', month: '2-digit', year: 'numeric' }
    : { day: 'numeric', month: 'short', year: 'numeric' });
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

/** A partial date of birth as stored (1985-00-00) → 00.00.1985 (the form on the documents). */
export function fmtDateOfBirth(value) {
  if (!value) return '—';
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  return m ? `${m[3]}.${m[2]}.${m[1]}` : value;
}
