// The letter for the applicant (GET /api/v1/applications/{id}/letter): the Vorgangsnummer, the
// status address with its QR code (an SVG the server draws), what happens next and what to bring –
// for the box exactly what the site's pickup settings ask for. On screen an A4 sheet with
// "Drucken"; printed, only the sheet. Plain words: the applicant reads it, not staff. The sheet is in
// the applicant's language (that of the SMS) when we have it (English), else German – whatever the
// screen's language is.

import { h, notice } from '../dom.js';
import { api, ApiError } from '../api.js';
import { makeT, fmtDate, fmtMoney, personName, inLanguage } from '../i18n.js';

export const css = true;

const t = makeT({
  de: {
    title: 'Brief für die antragstellende Person',
    registered: 'Der Antrag ist gespeichert. Geben Sie der Person diesen Brief mit.',
    hand: 'Drucken Sie den Brief aus und geben Sie ihn der Person mit.',
    toApplication: 'Zum Antrag',
    another: 'Nächsten Antrag erfassen',
    notFound: 'Diesen Antrag gibt es nicht.',
    erased: 'Die personenbezogenen Daten dieses Antrags sind nach der Löschfrist gelöscht. Einen Brief gibt es dafür nicht mehr.',
    letter: 'Brief',
    date: 'Datum: {date}',
    for: 'Für: {name}',
    subject: 'Ihr Antrag: {document}',
    hello: 'Guten Tag {name},',
    helloNoName: 'Guten Tag,',
    received: 'wir haben Ihren Antrag aufgenommen. Bitte heben Sie diesen Brief gut auf.',
    number: 'Ihre Vorgangsnummer',
    statusTitle: 'Ist Ihr Dokument fertig?',
    statusScan: 'Scannen Sie den QR-Code mit Ihrem Mobiltelefon. Oder geben Sie diese Adresse ein:',
    statusNoLogin: 'Sie brauchen dafür nur die Vorgangsnummer.',
    qrAlt: 'QR-Code zur Statusabfrage: {url}',
    nextTitle: 'So geht es weiter',
    made: 'Ihr Dokument wird jetzt hergestellt. Das dauert einige Wochen.',
    boxSms: 'Wenn es in der Abholbox liegt, bekommen Sie eine SMS mit einer PIN und dem letzten Tag für die Abholung.',
    boxGo: 'Holen Sie das Dokument an der Abholbox ab: {site}, {address}. Dort geben Sie Ihre Mobilnummer und die PIN ein.',
    counterCheck: 'Ob es fertig ist, sehen Sie mit dem QR-Code oder der Adresse oben.',
    counterGo: 'Wenn es fertig ist, machen Sie einen Termin und holen es am Schalter ab: {site}, {address}.',
    bringTitle: 'Bitte bringen Sie mit',
    bringPhone: 'Ihr Mobiltelefon mit der SMS (PIN)',
    bringPinLetter: 'Ihren PIN-Brief – er kommt getrennt mit der Post',
    bringDateOfBirth: 'Ihr Geburtsdatum – Sie geben es an der Abholbox ein',
    bringCan: 'Ihre alte Karte: Die Abholbox fragt nach der 6-stelligen Zugangsnummer (CAN) vorne auf der Karte',
    bringOldDocumentBox: 'Ihr altes Dokument – die Abholbox nimmt es an und macht es ungültig',
    bringOldDocument: 'Ihr altes Dokument – es wird bei der Abholung ungültig gemacht',
    bringLetter: 'diesen Brief',
    bringPassport: 'Ihren Pass oder einen anderen Ausweis mit Foto',
    bringFee: 'das Geld für die Gebühr: {amount}',
    feeBox: 'Die Gebühr von {amount} muss vor der Abholung bezahlt sein. An der Abholbox kann man nicht bezahlen.',
    questions: 'Haben Sie Fragen? Wenden Sie sich bitte an: {site}, {address}. Nennen Sie dabei Ihre Vorgangsnummer.',
    regards: 'Mit freundlichen Grüßen',
    machine: 'Dieser Brief wurde maschinell erstellt und ist ohne Unterschrift gültig.',
  },
  en: {
    title: 'Letter for the applicant',
    registered: 'The application has been saved. Give the applicant this letter.',
    hand: 'Print the letter and give it to the applicant.',
    toApplication: 'Go to the application',
    another: 'Register the next application',
    notFound: 'There is no such application.',
    erased: 'The personal data of this application was erased after the retention period. There is no letter for it any more.',
    letter: 'Letter',
    date: 'Date: {date}',
    for: 'For: {name}',
    subject: 'Your application: {document}',
    hello: 'Hello {name},',
    helloNoName: 'Hello,',
    received: 'we have received your application. Please keep this letter.',
    number: 'Your Vorgangsnummer (reference number)',
    statusTitle: 'Is your document ready?',
    statusScan: 'Scan the QR code with your phone. Or type in this address:',
    statusNoLogin: 'All you need is the Vorgangsnummer.',
    qrAlt: 'QR code for the status check: {url}',
    nextTitle: 'What happens next',
    made: 'Your document is now being made. This takes a few weeks.',
    boxSms: 'When it is in the pickup box, you get a text message with a PIN and the last day for collecting it.',
    boxGo: 'Collect the document from the pickup box: {site}, {address}. There you type in your mobile number and the PIN.',
    counterCheck: 'You can see whether it is ready with the QR code or the address above.',
    counterGo: 'When it is ready, make an appointment and collect it at the counter: {site}, {address}.',
    bringTitle: 'Please bring',
    bringPhone: 'your mobile phone with the text message (PIN)',
    bringPinLetter: 'your PIN letter – it comes separately by post',
    bringDateOfBirth: 'your date of birth – you type it in at the pickup box',
    bringCan: 'your old card: the pickup box asks for the 6-digit access number (CAN) on its front',
    bringOldDocumentBox: 'your old document – the pickup box takes it and makes it invalid',
    bringOldDocument: 'your old document – it is made invalid when you collect the new one',
    bringLetter: 'this letter',
    bringPassport: 'your passport or another identity document with a photo',
    bringFee: 'the money for the fee: {amount}',
    feeBox: 'The fee of {amount} must be paid before you collect the document. You cannot pay at the pickup box.',
    questions: 'Any questions? Please contact: {site}, {address}. Please quote your Vorgangsnummer.',
    regards: 'Kind regards',
    machine: 'This letter was produced automatically and is valid without a signature.',
  },
});

/** What to bring to the box: exactly what the site's pickup settings ask for. */
function bringToBox(letter) {
  const settings = letter.pickupSettings || {};
  const renewal = letter.issuance === 'renewal';
  // "Date of birth or CAN": the CAN of the old card at a renewal, the date of birth otherwise.
  const factor = settings.secondFactor === 'date_of_birth' || (settings.secondFactor === 'date_of_birth_or_can' && !renewal) ? t('bringDateOfBirth')
    : settings.secondFactor === 'date_of_birth_or_can' ? t('bringCan') : null;
  return [t('bringPhone'), settings.pinLetter && t('bringPinLetter'), factor, renewal && settings.oldDocument && t('bringOldDocumentBox')];
}

/** The sheet itself, built in the letter's language (`inLanguage`: texts, date and money). */
function letterSheet(letter, id, lang) {
  // Erased personal data leaves no name, not "undefined".
  const name = personName(letter, { givenFirst: true });
  const place = { site: letter.siteName, address: letter.siteAddress };
  const box = letter.pickupMethod === 'box';
  const fee = letter.fee || { amountCents: 0, settled: true };
  const feeDue = fee.amountCents > 0 && !fee.settled;

  // The server's address (and the QR code's) carries `lang=en` for an applicant whose language is English.
  const statusUrl = letter.statusUrl;
  const qr = h('img', { class: 'letter-qr', src: `/api/v1/applications/${id}/letter/qr.svg`, alt: t('qrAlt', { url: statusUrl }), width: 227, height: 227 });
  // Without the image the address below it still works.
  qr.addEventListener('error', () => { qr.hidden = true; });

  const steps = box
    ? [t('made'), t('boxSms'), t('boxGo', place)]
    : [t('made'), t('counterCheck'), t('counterGo', place)];
  const bring = box ? bringToBox(letter)
    : [t('bringLetter'), t('bringPassport'), letter.issuance === 'renewal' && t('bringOldDocument'), feeDue && t('bringFee', { amount: fmtMoney(fee.amountCents) })];

  return h('article', { class: 'letter-sheet', lang, 'aria-label': t('letter') },
    h('header', { class: 'letter-head' },
      h('div', { class: 'letter-sender' },
        h('strong', {}, letter.siteName),
        letter.siteAddress.split(/,\s*/).map((line) => h('span', {}, line))),
      h('p', { class: 'letter-date' }, t('date', { date: fmtDate(new Date()) }))),
    name ? h('p', { class: 'letter-to' }, t('for', { name })) : null,
    h('h2', { class: 'letter-subject' }, t('subject', { document: t(`doc.${letter.documentType}`) })),
    h('p', {}, name ? t('hello', { name }) : t('helloNoName')),
    h('p', {}, t('received')),
    h('div', { class: 'letter-number' },
      h('span', { class: 'letter-number-label' }, t('number')),
      h('strong', { class: 'letter-number-value' }, letter.vorgangsnummerDisplay)),
    h('section', { class: 'letter-status' },
      qr,
      h('div', {},
        h('h3', {}, t('statusTitle')),
        h('p', {}, t('statusScan')),
        h('p', { class: 'letter-url' }, statusUrl),
        h('p', {}, t('statusNoLogin')))),
    h('h3', {}, t('nextTitle')),
    h('ol', { class: 'letter-list' }, steps.map((s) => h('li', {}, s))),
    h('h3', {}, t('bringTitle')),
    h('ul', { class: 'letter-list' }, bring.filter(Boolean).map((s) => h('li', {}, s))),
    box && feeDue ? h('p', { class: 'letter-fee' }, t('feeBox', { amount: fmtMoney(fee.amountCents) })) : null,
    h('p', {}, t('questions', place)),
    h('p', { class: 'letter-regards' }, t('regards'), h('br'), letter.siteName),
    h('p', { class: 'letter-small' }, t('machine')));
}

export async function render(ctx) {
  ctx.setTitle(t('title'));
  const id = ctx.params.id;
  let letter;
  try {
    letter = await api('GET', `/api/v1/applications/${id}/letter`, { signal: ctx.signal });
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      ctx.main.append(h('h1', {}, t('notFound')));
      return;
    }
    if (e instanceof ApiError && e.code === 'personal_data_erased') {
      ctx.main.append(h('h1', {}, t('title')), notice('warning', h('p', {}, t('erased'))),
        h('p', {}, h('a', { href: `#/applications/${id}` }, t('toApplication'))));
      return;
    }
    throw e;
  }

  // Only German and English letters exist; any other language (or none yet) gets the German one.
  const sheetLang = letter.smsLanguage === 'en' ? 'en' : 'de';
  const sheet = inLanguage(sheetLang, () => letterSheet(letter, id, sheetLang));

  const print = h('button', { type: 'button', class: 'button', on: { click: () => window.print() } }, t('common.print'));
  ctx.main.append(
    h('div', { class: 'no-print letter-tools' },
      h('h1', {}, t('title')),
      ctx.query.get('registered') ? notice('success', h('p', {}, t('registered'))) : h('p', {}, t('hand')),
      h('div', { class: 'button-row' }, print,
        h('a', { href: `#/applications/${id}` }, t('toApplication')),
        ctx.query.get('registered') ? h('a', { href: '#/register' }, t('another')) : null)),
    sheet);
}
