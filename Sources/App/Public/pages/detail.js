// One application: its data, fee, state and compartment, the timeline of what happened, the SMS
// sent, and the actions its state allows (new PIN, move to the counter, assign or release a
// compartment, cancel, contact data, clear "contact required", hand over at the counter). After an
// action the page loads anew and says what happened (role=status). From delivery on a new mobile
// number is only asked for, and a new PIN to a number changed within 24 hours too: a supervisor who
// did not ask approves it (four eyes); the page lists the application's requests. Once the erasure
// pass has erased the personal data the page says so (and when) instead of showing empty fields, and
// offers no action that needs them. Supervisors export everything held about the application (Art. 15
// GDPR, audited) as a JSON file and reach its entries in the audit log.

import { h, replace, field, radios, errorSummary, notice, statusArea, download, confirmStep } from '../dom.js';
import { api, ApiError } from '../api.js';
import { makeT, ts, fmtDate, fmtDateTime, fmtMoney, fmtDateOfBirth, personName, languageName, languageOptions, errorText } from '../i18n.js';
import { displayVorgangsnummer } from '../vorgangsnummer.js';
import { lastSearchPath } from './search.js';

export const css = true;

const STRINGS = {
  de: {
    title: 'Antrag {vn}',
    notFound: 'Diesen Antrag gibt es nicht (oder er gehört zu einer anderen Behörde).',
    backToSearch: 'Zur Suche',
    erased: 'Die personenbezogenen Daten sind gelöscht.',
    erasedOn: 'Personenbezogene Daten gelöscht am {date}',
    erasedNotice: 'Name, Geburtsdatum, Mobilnummer, Dokumentnummer und SMS dieses Antrags sind nach der Löschfrist gelöscht. Vorgangsnummer, Status und Verlauf bleiben. Brief, SMS und eine neue PIN sind nicht mehr möglich.',
    personalData: 'Personenbezogene Daten',
    erasedValue: 'gelöscht am {date}',
    erasedShort: 'gelöscht',
    proxyErased: 'Bevollmächtigte Person (Name gelöscht)',
    privacy: 'Datenschutz',
    export: 'Auskunft exportieren (Art. 15 DSGVO)',
    exportHint: 'Eine JSON-Datei mit allem, was zu diesem Antrag gespeichert ist – mit der vollständigen Mobilnummer, ohne PIN, SMS-Text und CAN. Der Export wird im Protokoll vermerkt.',
    exportFile: 'auskunft-{vn}.json',
    exported: 'Die Auskunft ist heruntergeladen: {file}. Der Export steht im Protokoll.',
    auditLink: 'Protokoll zu diesem Antrag',
    // Sections
    actions: 'Aktionen',
    data: 'Antragsdaten',
    pickup: 'Abholung',
    fee: 'Gebühr',
    timeline: 'Verlauf',
    sms: 'SMS',
    approvals: 'Freigaben (Vier-Augen-Prinzip)',
    // Data
    vorgangsnummer: 'Vorgangsnummer',
    familyName: 'Familienname',
    givenNames: 'Vornamen',
    dateOfBirth: 'Geburtsdatum',
    mobileNumber: 'Mobilnummer',
    mobileNumberChangedAt: 'Mobilnummer geändert am',
    pendingNumber: 'Neue Nummer {number} beantragt – wartet auf Freigabe',
    documentType: 'Dokument',
    issuance: 'Ausstellung',
    oldDocumentCan: 'CAN des alten Dokuments',
    canStored: 'erfasst',
    canMissing: 'nicht erfasst',
    smsLanguage: 'SMS-Sprache',
    site: 'Standort',
    household: 'Haushalt',
    householdShared: 'Teilt Fach und PIN mit weiteren Anträgen des Haushalts',
    createdAt: 'Erfasst am',
    updatedAt: 'Zuletzt geändert',
    state: 'Status',
    pickupMethod: 'Abholung',
    accessible: 'Barrierefreies Fach',
    compartment: 'Fach',
    compartmentValue: '{box}, Fach {number}',
    deadline: 'Abholfrist',
    deadlineValue: 'bis {date}',
    contactRequired: 'Kontakt nötig',
    collectedAt: 'Abgeholt am',
    handedOverTo: 'Abgeholt durch',
    cancelReason: 'Grund der Stornierung',
    amount: 'Betrag',
    exemption: 'Befreiung',
    noExemption: 'keine',
    settled: 'Bezahlt',
    notDue: 'nicht nötig',
    'assignment.assigned': 'zugewiesen, noch nicht beladen',
    'assignment.loaded': 'beladen',
    'assignment.retrieval_due': 'zu entnehmen',
    'assignment.collected': 'abgeholt',
    'assignment.retrieved': 'entnommen',
    'assignment.released': 'Zuweisung aufgehoben',
    // Contact required
    contactNotice: 'Kontakt nötig: Die SMS an die antragstellende Person ist fehlgeschlagen. Sie hat keine Nachricht (und keine PIN). Bitte rufen Sie sie an oder schreiben Sie ihr.',
    clearContact: 'Kontakt ist erfolgt – Hinweis entfernen',
    // Actions
    newPin: 'Neue PIN senden',
    newPinLocked: 'Neue PIN senden (Fach wird entsperrt)',
    newPinHint: 'Die alte PIN gilt dann nicht mehr. Wie viele neue PINs es am Tag gibt, ist begrenzt.',
    toCounter: 'Auf Abholung am Schalter umstellen',
    assign: 'Fach zuweisen',
    reassign: 'Anderes Fach zuweisen',
    chooseCompartment: 'Bestimmtes Fach wählen',
    chooseTitle: 'Fach wählen',
    chooseBox: 'Box',
    chooseNumber: 'Fachnummer',
    chooseNumberHint: 'Die Nummer steht am Fach. Es muss frei sein – und barrierefrei, wenn der Antrag das verlangt.',
    chooseSubmit: 'Dieses Fach zuweisen',
    chooseNumberMissing: 'Bitte geben Sie eine Fachnummer ein.',
    release: 'Zuweisung aufheben',
    releaseQuestion: 'Zuweisung von Fach {number} ({box}) aufheben?',
    releaseDetail: 'Das Fach wird wieder frei. Der Antrag wartet danach wieder auf ein Fach.',
    releaseConfirm: 'Ja, Zuweisung aufheben',
    feeBlocksBox: 'Ein Fach gibt es erst, wenn die Gebühr bezahlt ist: Die Box kann nicht kassieren.',
    cancel: 'Antrag stornieren',
    editContact: 'Kontaktdaten ändern',
    letter: 'Brief an die antragstellende Person drucken',
    noActions: 'Der Antrag ist abgeschlossen. Es sind keine Aktionen mehr möglich.',
    // Cancel
    cancelTitle: 'Antrag stornieren',
    reason: 'Grund der Stornierung',
    reasonHint: 'Zum Beispiel „Antrag zurückgenommen“. Höchstens 500 Zeichen.',
    cancelLoaded: 'Das Dokument liegt in der Box. Das Fach bleibt belegt, bis jemand das Dokument entnimmt; die PIN öffnet es nicht mehr.',
    confirmCancel: 'Stornierung bestätigen',
    keep: 'Abbrechen',
    reasonMissing: 'Bitte geben Sie den Grund der Stornierung ein.',
    reasonTooLong: 'Der Grund darf höchstens 500 Zeichen haben.',
    // Contact data
    contactTitle: 'Kontaktdaten ändern',
    mobileHint: 'International (+43 664 1234567) oder deutsch (0171 1234567). Für die Abholung in der Box nötig.',
    mobileApprovalHint: 'Das Dokument ist geliefert: Eine neue Nummer gilt erst, wenn eine zweite Person (Leitung) sie freigibt. Bis dahin gehen SMS an die bisherige Nummer.',
    feeSettledField: 'Gebühr bezahlt',
    feeOpenHint: 'Offen: {amount}.',
    feeBoxHint: 'Erst nach der Bezahlung gibt es ein Fach in der Box.',
    saveChanges: 'Änderungen speichern',
    mobileMissing: 'Bitte geben Sie eine Mobilnummer ein: Die PIN kommt per SMS.',
    nothingChanged: 'Sie haben nichts geändert.',
    // Handover
    handoverTitle: 'Übergabe am Schalter',
    handoverIntro: 'Das Dokument liegt am Schalter bereit. Prüfen Sie vor der Übergabe:',
    collectedBy: 'Abholung durch',
    applicant: 'antragstellende Person',
    proxy: 'bevollmächtigte Person',
    proxyName: 'Name der bevollmächtigten Person',
    powerOfAttorney: 'Vollmacht geprüft',
    powerOfAttorneyHint: 'Schriftliche Vollmacht der antragstellenden Person liegt vor und ist unterschrieben.',
    identity: 'Identität geprüft',
    identityHint: 'Ausweis oder Pass der abholenden Person mit Foto verglichen.',
    oldDocument: 'Altes Dokument eingezogen',
    oldDocumentHint: 'Bei einer Verlängerung wird das alte Dokument entwertet und einbehalten.',
    feePaid: 'Gebühr bezahlt',
    feePaidHint: 'Offen: {amount}. Bitte vor der Übergabe kassieren.',
    handover: 'Übergabe bestätigen',
    collectedBy_missing: 'Bitte wählen Sie, wer das Dokument abholt.',
    proxy_name_missing: 'Bitte geben Sie den Namen der bevollmächtigten Person ein.',
    proxy_name_too_long: 'Der Name darf höchstens 200 Zeichen haben.',
    power_of_attorney_missing: 'Bitte prüfen Sie die Vollmacht und bestätigen Sie das.',
    identity_not_checked: 'Bitte prüfen Sie die Identität der abholenden Person und bestätigen Sie das.',
    old_document_not_collected: 'Bei einer Verlängerung muss das alte Dokument eingezogen werden.',
    fee_not_settled: 'Bitte kassieren Sie die Gebühr vor der Übergabe.',
    // Results of actions
    'done.pin': 'Eine neue PIN ist per SMS unterwegs. Die alte PIN gilt nicht mehr.',
    'done.pinUnlocked': 'Eine neue PIN ist per SMS unterwegs. Das Fach ist entsperrt; die alte PIN gilt nicht mehr.',
    'done.pinRequested': 'Die Mobilnummer wurde in den letzten 24 Stunden geändert: Die neue PIN wartet auf die Freigabe durch eine zweite Person (Leitung). Bis dahin gilt die alte PIN.',
    'done.numberRequested': 'Die Änderung wartet auf die Freigabe durch eine zweite Person (Leitung).',
    'done.savedNumberRequested': 'Die übrigen Änderungen sind gespeichert. Die neue Mobilnummer wartet auf die Freigabe durch eine zweite Person (Leitung).',
    'done.counter': 'Der Antrag wird jetzt am Schalter abgeholt.',
    'done.counterReady': 'Der Antrag wird jetzt am Schalter abgeholt. Die Person bekommt eine SMS, dass das Dokument bereitliegt.',
    'done.assign': 'Zugewiesen: {box}, Fach {number}.',
    'done.release': 'Die Zuweisung ist aufgehoben. Der Antrag wartet wieder auf ein Fach.',
    'done.cancel': 'Der Antrag ist storniert.',
    'done.contact': 'Der Hinweis „Kontakt nötig“ ist entfernt.',
    'done.saved': 'Die Änderungen sind gespeichert.',
    'done.handover': 'Das Dokument ist übergeben. Der Antrag ist abgeschlossen.',
    // Errors of actions
    'err.pinLimit': 'Für diesen Antrag gibt es heute keine weitere neue PIN. Bitte versuchen Sie es morgen wieder.',
    // Timeline
    'actor.user': 'Beschäftigte',
    'actor.box': 'Box',
    'actor.system': 'System',
    'ev.application.registered': 'Antrag erfasst',
    'ev.application.updated': 'Antrag geändert',
    'ev.application.cancelled': 'Antrag storniert',
    'ev.application.delivered': 'Dokument geliefert',
    'ev.application.assigned': 'Fach zugewiesen',
    'ev.application.assignment_released': 'Zuweisung aufgehoben',
    'ev.application.loading_authorised': 'Beladen an der Box zugelassen',
    'ev.application.loaded': 'Fach beladen',
    'ev.application.pin_reissued': 'Neue PIN verschickt, Fach entsperrt',
    'ev.application.sms_failed': 'SMS fehlgeschlagen – Kontakt nötig',
    'ev.application.deadline_passed': 'Abholfrist abgelaufen',
    'ev.application.collected': 'An der Box abgeholt',
    'ev.application.handed_over': 'Dokument übergeben',
    'ev.application.handed_over.counter': 'Am Schalter übergeben',
    'ev.application.handed_over.box': 'Übergabe an der Box bestätigt',
    'ev.application.retrieved': 'Aus der Box entnommen',
    'ev.application.mobile_number_change_requested': 'Neue Mobilnummer beantragt (wartet auf Freigabe)',
    'ev.application.mobile_number_change_approved': 'Neue Mobilnummer freigegeben',
    'ev.application.mobile_number_change_rejected': 'Neue Mobilnummer abgelehnt',
    'ev.application.pin_reissue_requested': 'Neue PIN beantragt (wartet auf Freigabe)',
    'ev.application.pin_reissue_approved': 'Neue PIN freigegeben',
    'ev.application.pin_reissue_rejected': 'Neue PIN abgelehnt',
    'ev.application.approval_superseded': 'Eine Anfrage auf Freigabe ist hinfällig (eine neuere ersetzt sie, oder die Daten wurden gelöscht)',
    'ev.application.personal_data_erased': 'Personenbezogene Daten gelöscht',
    'ev.reason.closed': 'Frist nach Abholung oder Stornierung abgelaufen',
    'ev.reason.max_age': 'Höchstfrist ab Erfassung abgelaufen',
    'ev.other': 'Ereignis „{action}“',
    'ev.changed': 'Geändert: {fields}',
    'ev.newState': 'Neuer Status: {state}',
    'ev.from': 'Vorher: {state}',
    'ev.mode.manual': 'von Hand',
    'ev.mode.automatic': 'automatisch bei der Lieferung',
    'ev.mode.reassigned': 'neu zugewiesen',
    'ev.mode.at_loading': 'beim Beladen an der Box',
    'ev.compartmentNumber': 'Fach {number}',
    'ev.recipient.applicant': 'an die antragstellende Person',
    'ev.recipient.proxy': 'an eine bevollmächtigte Person',
    'ev.feePaid': 'Gebühr bei der Übergabe bezahlt',
    'ev.pickupMethod': 'Abholung: {method}',
    'ev.smsKind': 'SMS: {kind}',
    'field.familyName': 'Familienname',
    'field.givenNames': 'Vornamen',
    'field.mobileNumber': 'Mobilnummer',
    'field.pickupMethod': 'Abholung',
    'field.needsAccessibleCompartment': 'Barrierefreies Fach',
    'field.smsLanguage': 'SMS-Sprache',
    'field.feeExemption': 'Gebührenbefreiung',
    'field.feeSettled': 'Gebühr bezahlt',
    'field.householdGroup': 'Haushalt',
    'field.contactRequired': 'Kontakt nötig',
    noEvents: 'Noch keine Einträge.',
    // SMS
    noSms: 'Es wurden keine SMS verschickt.',
    smsCaption: 'SMS zu diesem Antrag, die neuesten zuerst',
    'col.kind': 'Art',
    'col.status': 'Status',
    'col.to': 'An',
    'col.attempts': 'Versuche',
    'col.error': 'Fehler',
    'col.created': 'Erstellt',
    'col.sent': 'Gesendet',
    'sms.ready_in_box': 'Abholbereit in der Box (mit PIN)',
    'sms.reminder': 'Erinnerung an die Frist',
    'sms.moved_to_counter': 'Zum Schalter verlegt',
    'sms.new_pin': 'Neue PIN',
    'sms.ready_at_counter': 'Abholbereit am Schalter',
    'sms.mobile_number_changed': 'Mobilnummer geändert (an die bisherige Nummer)',
    'smsStatus.queued': 'wartet auf Versand',
    'smsStatus.sending': 'wird gesendet',
    'smsStatus.sent': 'gesendet',
    'smsStatus.delivered': 'zugestellt',
    'smsStatus.failed': 'fehlgeschlagen',
    'smsStatus.expired': 'abgelaufen',
    nextAttempt: 'nächster Versuch {time}',
    finalAt: 'abgeschlossen {time}',
    // Four-eyes requests
    approvalsCaption: 'Anfragen auf Freigabe zu diesem Antrag, die neuesten zuerst',
    'col.request': 'Anfrage',
    'col.number': 'Nummer',
    'col.requestedBy': 'Angefragt',
    'col.decidedBy': 'Entschieden',
    byAt: '{name}, {time}',
    waiting: 'Wartet auf Freigabe: {kind} (angefragt von {name}, {time}).',
    toApprovals: 'Zu den Freigaben',
  },
  en: {
    title: 'Application {vn}',
    notFound: 'There is no such application (or it belongs to another authority).',
    backToSearch: 'Back to the search',
    erased: 'The personal data has been erased.',
    erasedOn: 'Personal data erased on {date}',
    erasedNotice: 'The name, date of birth, mobile number, document number and SMS of this application were erased after the retention period. The Vorgangsnummer, state and timeline stay. A letter, SMS or new PIN is no longer possible.',
    personalData: 'Personal data',
    erasedValue: 'erased on {date}',
    erasedShort: 'erased',
    proxyErased: 'Authorised person (name erased)',
    privacy: 'Privacy',
    export: 'Export data (GDPR Art. 15)',
    exportHint: 'A JSON file with everything held about this application – with the full mobile number, without PIN, SMS text or CAN. The export is recorded in the audit log.',
    exportFile: 'data-export-{vn}.json',
    exported: 'The export is downloaded: {file}. It is recorded in the audit log.',
    auditLink: 'Audit log of this application',
    actions: 'Actions',
    data: 'Application data',
    pickup: 'Pickup',
    fee: 'Fee',
    timeline: 'Timeline',
    sms: 'SMS',
    approvals: 'Approvals (four-eyes principle)',
    vorgangsnummer: 'Vorgangsnummer (reference number)',
    familyName: 'Family name',
    givenNames: 'Given names',
    dateOfBirth: 'Date of birth',
    mobileNumber: 'Mobile number',
    mobileNumberChangedAt: 'Mobile number changed',
    pendingNumber: 'New number {number} requested – awaiting approval',
    documentType: 'Document',
    issuance: 'Issuance',
    oldDocumentCan: 'CAN of the old document',
    canStored: 'recorded',
    canMissing: 'not recorded',
    smsLanguage: 'SMS language',
    site: 'Site',
    household: 'Household',
    householdShared: 'Shares compartment and PIN with other applications of the household',
    createdAt: 'Registered',
    updatedAt: 'Last changed',
    state: 'State',
    pickupMethod: 'Pickup',
    accessible: 'Accessible compartment',
    compartment: 'Compartment',
    compartmentValue: '{box}, compartment {number}',
    deadline: 'Pickup deadline',
    deadlineValue: 'until {date}',
    contactRequired: 'Contact required',
    collectedAt: 'Collected',
    handedOverTo: 'Collected by',
    cancelReason: 'Reason for cancellation',
    amount: 'Amount',
    exemption: 'Exemption',
    noExemption: 'none',
    settled: 'Paid',
    notDue: 'not needed',
    'assignment.assigned': 'assigned, not loaded yet',
    'assignment.loaded': 'loaded',
    'assignment.retrieval_due': 'to be taken out',
    'assignment.collected': 'collected',
    'assignment.retrieved': 'taken out',
    'assignment.released': 'assignment cancelled',
    contactNotice: 'Contact required: the SMS to the applicant failed. They have no message (and no PIN). Please call or write to them.',
    clearContact: 'Contact made – remove the notice',
    newPin: 'Send a new PIN',
    newPinLocked: 'Send a new PIN (unlocks the compartment)',
    newPinHint: 'The old PIN stops working. The number of new PINs a day is limited.',
    toCounter: 'Switch to pickup at the counter',
    assign: 'Assign a compartment',
    reassign: 'Assign another compartment',
    chooseCompartment: 'Choose a compartment',
    chooseTitle: 'Choose a compartment',
    chooseBox: 'Box',
    chooseNumber: 'Compartment number',
    chooseNumberHint: 'The number is on the compartment. It must be free – and accessible when the application asks for it.',
    chooseSubmit: 'Assign this compartment',
    chooseNumberMissing: 'Please enter a compartment number.',
    release: 'Cancel the assignment',
    releaseQuestion: 'Cancel the assignment of compartment {number} ({box})?',
    releaseDetail: 'The compartment becomes free again. The application then waits for a compartment again.',
    releaseConfirm: 'Yes, cancel the assignment',
    feeBlocksBox: 'A compartment is only given once the fee is paid: the box cannot take payment.',
    cancel: 'Cancel the application',
    editContact: 'Change contact data',
    letter: 'Print the letter to the applicant',
    noActions: 'The application is closed. No more actions are possible.',
    cancelTitle: 'Cancel the application',
    reason: 'Reason for cancellation',
    reasonHint: 'For example “Application withdrawn”. At most 500 characters.',
    cancelLoaded: 'The document is in the box. The compartment stays occupied until someone takes it out; the PIN no longer opens it.',
    confirmCancel: 'Confirm the cancellation',
    keep: 'Cancel',
    reasonMissing: 'Please enter the reason for the cancellation.',
    reasonTooLong: 'The reason can have at most 500 characters.',
    contactTitle: 'Change contact data',
    mobileHint: 'International (+43 664 1234567) or German (0171 1234567). Needed for pickup from the box.',
    mobileApprovalHint: 'The document is delivered: a new number only applies once a second person (supervisor) approves it. Until then SMS go to the previous number.',
    feeSettledField: 'Fee paid',
    feeOpenHint: 'Due: {amount}.',
    feeBoxHint: 'A compartment in the box is only given after payment.',
    saveChanges: 'Save changes',
    mobileMissing: 'Please enter a mobile number: the PIN is sent by SMS.',
    nothingChanged: 'You have not changed anything.',
    handoverTitle: 'Handover at the counter',
    handoverIntro: 'The document is ready at the counter. Before handing it over, check:',
    collectedBy: 'Collected by',
    applicant: 'applicant',
    proxy: 'authorised person',
    proxyName: 'Name of the authorised person',
    powerOfAttorney: 'Power of attorney checked',
    powerOfAttorneyHint: 'A written power of attorney of the applicant is there and signed.',
    identity: 'Identity checked',
    identityHint: 'Compared the ID card or passport of the person collecting with the photo.',
    oldDocument: 'Old document collected',
    oldDocumentHint: 'For a renewal the old document is invalidated and kept.',
    feePaid: 'Fee paid',
    feePaidHint: 'Due: {amount}. Please take the payment before the handover.',
    handover: 'Confirm the handover',
    collectedBy_missing: 'Please choose who collects the document.',
    proxy_name_missing: 'Please enter the name of the authorised person.',
    proxy_name_too_long: 'The name can have at most 200 characters.',
    power_of_attorney_missing: 'Please check the power of attorney and confirm it.',
    identity_not_checked: 'Please check the identity of the person collecting and confirm it.',
    old_document_not_collected: 'For a renewal the old document must be collected.',
    fee_not_settled: 'Please take the fee before the handover.',
    'done.pin': 'A new PIN is on its way by SMS. The old PIN no longer works.',
    'done.pinUnlocked': 'A new PIN is on its way by SMS. The compartment is unlocked; the old PIN no longer works.',
    'done.pinRequested': 'The mobile number changed within the last 24 hours: the new PIN awaits approval by a second person (supervisor). Until then the old PIN stays valid.',
    'done.numberRequested': 'The change awaits approval by a second person (supervisor).',
    'done.savedNumberRequested': 'The other changes are saved. The new mobile number awaits approval by a second person (supervisor).',
    'done.counter': 'The application is now collected at the counter.',
    'done.counterReady': 'The application is now collected at the counter. The applicant gets an SMS that the document is ready.',
    'done.assign': 'Assigned: {box}, compartment {number}.',
    'done.release': 'The assignment is cancelled. The application waits for a compartment again.',
    'done.cancel': 'The application is cancelled.',
    'done.contact': 'The “contact required” notice is removed.',
    'done.saved': 'The changes are saved.',
    'done.handover': 'The document is handed over. The application is closed.',
    'err.pinLimit': 'There is no further new PIN for this application today. Please try again tomorrow.',
    'actor.user': 'Staff',
    'actor.box': 'Box',
    'actor.system': 'System',
    'ev.application.registered': 'Application registered',
    'ev.application.updated': 'Application changed',
    'ev.application.cancelled': 'Application cancelled',
    'ev.application.delivered': 'Document delivered',
    'ev.application.assigned': 'Compartment assigned',
    'ev.application.assignment_released': 'Assignment cancelled',
    'ev.application.loading_authorised': 'Loading at the box allowed',
    'ev.application.loaded': 'Compartment loaded',
    'ev.application.pin_reissued': 'New PIN sent, compartment unlocked',
    'ev.application.sms_failed': 'SMS failed – contact required',
    'ev.application.deadline_passed': 'Pickup deadline passed',
    'ev.application.collected': 'Collected at the box',
    'ev.application.handed_over': 'Document handed over',
    'ev.application.handed_over.counter': 'Handed over at the counter',
    'ev.application.handed_over.box': 'Handover at the box confirmed',
    'ev.application.retrieved': 'Taken out of the box',
    'ev.application.mobile_number_change_requested': 'New mobile number requested (awaiting approval)',
    'ev.application.mobile_number_change_approved': 'New mobile number approved',
    'ev.application.mobile_number_change_rejected': 'New mobile number rejected',
    'ev.application.pin_reissue_requested': 'New PIN requested (awaiting approval)',
    'ev.application.pin_reissue_approved': 'New PIN approved',
    'ev.application.pin_reissue_rejected': 'New PIN rejected',
    'ev.application.approval_superseded': 'A request for approval became moot (a newer one replaced it, or the data was erased)',
    'ev.application.personal_data_erased': 'Personal data erased',
    'ev.reason.closed': 'Period after collection or cancellation over',
    'ev.reason.max_age': 'Maximum period from registration over',
    'ev.other': 'Event “{action}”',
    'ev.changed': 'Changed: {fields}',
    'ev.newState': 'New state: {state}',
    'ev.from': 'Before: {state}',
    'ev.mode.manual': 'by hand',
    'ev.mode.automatic': 'automatically at delivery',
    'ev.mode.reassigned': 'reassigned',
    'ev.mode.at_loading': 'when loading at the box',
    'ev.compartmentNumber': 'compartment {number}',
    'ev.recipient.applicant': 'to the applicant',
    'ev.recipient.proxy': 'to an authorised person',
    'ev.feePaid': 'Fee paid at the handover',
    'ev.pickupMethod': 'Pickup: {method}',
    'ev.smsKind': 'SMS: {kind}',
    'field.familyName': 'family name',
    'field.givenNames': 'given names',
    'field.mobileNumber': 'mobile number',
    'field.pickupMethod': 'pickup',
    'field.needsAccessibleCompartment': 'accessible compartment',
    'field.smsLanguage': 'SMS language',
    'field.feeExemption': 'fee exemption',
    'field.feeSettled': 'fee paid',
    'field.householdGroup': 'household',
    'field.contactRequired': 'contact required',
    noEvents: 'No entries yet.',
    noSms: 'No SMS were sent.',
    smsCaption: 'SMS of this application, newest first',
    'col.kind': 'Kind',
    'col.status': 'Status',
    'col.to': 'To',
    'col.attempts': 'Attempts',
    'col.error': 'Error',
    'col.created': 'Created',
    'col.sent': 'Sent',
    'sms.ready_in_box': 'Ready in the box (with PIN)',
    'sms.reminder': 'Deadline reminder',
    'sms.moved_to_counter': 'Moved to the counter',
    'sms.new_pin': 'New PIN',
    'sms.ready_at_counter': 'Ready at the counter',
    'sms.mobile_number_changed': 'Mobile number changed (to the previous number)',
    'smsStatus.queued': 'waiting to be sent',
    'smsStatus.sending': 'being sent',
    'smsStatus.sent': 'sent',
    'smsStatus.delivered': 'delivered',
    'smsStatus.failed': 'failed',
    'smsStatus.expired': 'expired',
    nextAttempt: 'next attempt {time}',
    finalAt: 'final {time}',
    approvalsCaption: 'Requests for approval of this application, newest first',
    'col.request': 'Request',
    'col.number': 'Number',
    'col.requestedBy': 'Requested',
    'col.decidedBy': 'Decided',
    byAt: '{name}, {time}',
    waiting: 'Awaiting approval: {kind} (requested by {name}, {time}).',
    toApprovals: 'Go to the approvals',
  },
};
const t = makeT(STRINGS);

/** This page's words for the server's error codes of its actions (the others are shared, see errorText). */
const CODES = {
  de: {
    no_mobile_number: 'Es ist keine Mobilnummer hinterlegt. Bitte tragen Sie zuerst eine ein.',
    no_free_compartment: 'Am Standort ist gerade kein passendes Fach frei.',
    fee_not_settled: 'Die Gebühr ist noch offen. Ein Fach gibt es erst nach der Bezahlung.',
    not_box_pickup: 'Die Person holt am Schalter ab; ein Fach ist nicht nötig.',
    compartment_unavailable: 'Dieses Fach ist nicht frei oder passt nicht.',
    household_shares_compartment: 'Im selben Fach liegen Dokumente weiterer Haushaltsmitglieder. Bitte geben Sie diese zuerst aus oder lassen Sie das Fach entnehmen.',
    mobile_number_unchanged: 'Das ist schon die Mobilnummer dieses Antrags.',
    mobile_number_change_needs_approval: 'Nach der Lieferung braucht eine neue Mobilnummer die Freigabe durch eine zweite Person (Leitung). Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.',
    approval_not_needed: 'Vor der Lieferung wird die Mobilnummer direkt geändert. Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.',
  },
  en: {
    no_mobile_number: 'There is no mobile number. Please enter one first.',
    no_free_compartment: 'No suitable compartment is free at the site right now.',
    fee_not_settled: 'The fee is not paid yet. A compartment is only given after payment.',
    not_box_pickup: 'The applicant collects at the counter; no compartment is needed.',
    compartment_unavailable: 'This compartment is not free or does not fit.',
    household_shares_compartment: 'Documents of other household members are in the same compartment. Please hand them out first or have the compartment emptied.',
    mobile_number_unchanged: 'This is the application’s mobile number already.',
    mobile_number_change_needs_approval: 'After delivery a new mobile number needs approval by a second person (supervisor). Please reload the page and try again.',
    approval_not_needed: 'Before delivery the mobile number is changed directly. Please reload the page and try again.',
  },
};

const OPEN = (state) => state !== 'collected' && state !== 'cancelled';
const BEFORE_ASSIGNMENT = ['registered', 'in_production', 'delivered'];
/** From delivery on a new mobile number would redirect the PIN: it is asked for and approved by a second person. */
const NUMBER_NEEDS_APPROVAL = ['delivered', 'assigned', 'ready_in_box', 'retrieval_due', 'ready_at_counter'];

/** Whether the page has a text for `key` (server codes and event names may be new). */
const hasKey = (key) => Object.prototype.hasOwnProperty.call(STRINGS.de, key);
const feeOpen = (app) => app.fee.amountCents > 0 && !app.fee.settled;

/** A message for a failed action: the server's code in the user's words. */
const actionError = (e) => errorText(e, { codes: CODES });

/** <dl class="summary"> from [label, value] pairs; null values are left out. */
function summaryList(rows) {
  return h('dl', { class: 'summary' }, rows.filter((r) => r && r[1] !== null && r[1] !== undefined).map(([label, value]) => [h('dt', {}, label), h('dd', {}, value)]));
}

const capitalised = (text) => text.charAt(0).toUpperCase() + text.slice(1);
const yesNo = (value) => ts(value ? 'common.yes' : 'common.no');
const badge = (state) => h('span', { class: `badge badge-${state}` }, ts(`state.${state}`));
const time = (value, text) => h('time', { datetime: value }, text);

/** +4915112345678 → +49••••••••678: the country code and the last three digits, as the SMS history shows numbers. */
function maskedNumber(number) {
  if (!number) return ts('common.none');
  return number.length > 6 ? number.slice(0, 3) + '•'.repeat(number.length - 6) + number.slice(-3) : '•'.repeat(number.length);
}

export async function render(ctx) {
  const appId = ctx.params.id;
  const path = `/api/v1/applications/${appId}`;
  let siteNames = null;
  let loads = 0; // only the newest load draws

  /** Loads the application and everything around it, and draws the page with `flash` on top. */
  async function load(flash) {
    const mine = ++loads;
    const sitesRequest = siteNames ? Promise.resolve(null) : api('GET', '/api/v1/sites', { signal: ctx.signal }).catch(() => []);
    const [app, events, sms, sites, approvals] = await Promise.all([
      api('GET', path, { signal: ctx.signal }),
      api('GET', `${path}/events`, { signal: ctx.signal }),
      api('GET', '/api/v1/sms/messages', { query: { applicationId: appId, limit: 50 }, signal: ctx.signal }),
      sitesRequest,
      // The page stands without its requests for approval (they are listed again on the next load).
      api('GET', '/api/v1/approvals', { query: { applicationId: appId, limit: 20 }, signal: ctx.signal }).catch((e) => {
        if (e?.name === 'AbortError' || (e instanceof ApiError && e.status === 401)) throw e;
        return { items: [] };
      }),
    ]);
    if (sites?.length) siteNames = new Map(sites.map((s) => [s.id, s.name]));
    const locked = app.state === 'ready_in_box' && app.assignment?.status === 'loaded' && app.assignment.locked === true;
    if (mine === loads) draw(app, events, sms.items, approvals.items, flash, locked);
  }

  /**
   * Runs an action with every action button disabled (one request at a time); on success loads anew
   * with `success(result)` (a text, or {warning: text} for a result that still waits on someone), on failure with the error (`messages` overrides the text for some codes).
   */
  async function act(request, success, messages = {}) {
    const buttons = [...ctx.main.querySelectorAll('.detail-actions button, .detail-contact button')];
    for (const b of buttons) b.disabled = true;
    try {
      let flash;
      try {
        const result = await request();
        const said = success(result);
        flash = said?.warning ? notice('warning', h('p', {}, said.warning)) : notice('success', h('p', {}, said));
      } catch (e) {
        if (e?.name === 'AbortError' || (e instanceof ApiError && e.status === 401)) return;
        flash = notice('error', h('p', {}, (e instanceof ApiError && messages[e.code]) || actionError(e)));
      }
      await reload(flash);
    } finally {
      // Drawn anew they are enabled anyway; these are still there only when the reload failed.
      for (const b of buttons) b.disabled = false;
    }
  }

  async function reload(flash) {
    try {
      await load(flash);
    } catch (e) {
      if (e?.name === 'AbortError' || (e instanceof ApiError && e.status === 401)) return;
      ctx.main.prepend(notice('error', h('p', {}, actionError(e))));
      return;
    }
    // The button that was pressed is gone: keyboard and screen-reader users continue at the message.
    const message = ctx.main.querySelector('.detail-flash .notice');
    if (message) { message.setAttribute('tabindex', '-1'); message.focus(); }
  }

  function draw(app, events, messages, approvals, flash, locked) {
    const pending = approvals.filter((a) => a.state === 'pending');
    const vn = displayVorgangsnummer(app.vorgangsnummer);
    ctx.setTitle(t('title', { vn }));
    const name = personName(app);
    const erased = app.personalDataErasedAt ? t('erasedOn', { date: fmtDateTime(app.personalDataErasedAt) }) : null;
    replace(ctx.main,
      h('p', { class: 'detail-back no-print' }, h('a', { href: `#${lastSearchPath()}` }, t('backToSearch'))),
      h('div', { class: 'detail-head' },
        h('h1', {}, t('title', { vn })),
        h('p', { class: 'detail-subtitle' }, erased ? h('span', { class: 'detail-erased' }, erased)
          : name ? h('span', { class: 'detail-name' }, name) : h('span', { class: 'muted' }, t('erased')), ' ', badge(app.state))),
      h('div', { class: 'detail-flash' }, flash),
      erased ? h('div', { class: 'notice detail-erased-notice' }, h('p', {}, t('erasedNotice'))) : null,
      app.contactRequired ? contactNotice(app) : null,
      app.state === 'ready_at_counter' ? handoverSection(app) : null,
      actionsSection(app, pending, locked),
      h('div', { class: 'detail-columns' },
        h('section', { 'aria-labelledby': 'detail-data' }, h('h2', { id: 'detail-data' }, t('data')), dataList(app, pending)),
        h('div', {},
          h('section', { 'aria-labelledby': 'detail-pickup' }, h('h2', { id: 'detail-pickup' }, t('pickup')), pickupList(app)),
          h('section', { 'aria-labelledby': 'detail-fee' }, h('h2', { id: 'detail-fee' }, t('fee')), feeList(app)))),
      ctx.me?.user?.role === 'supervisor' ? privacySection(app) : null,
      approvals.length ? h('section', { 'aria-labelledby': 'detail-approvals' }, h('h2', { id: 'detail-approvals' }, t('approvals')), approvalsTable(approvals)) : null,
      h('section', { 'aria-labelledby': 'detail-timeline' }, h('h2', { id: 'detail-timeline' }, t('timeline')), timeline(events)),
      h('section', { 'aria-labelledby': 'detail-sms' }, h('h2', { id: 'detail-sms' }, t('sms')), smsTable(messages)));
  }

  // --- data ---------------------------------------------------------------------------------------

  function dataList(app, pending) {
    const change = pending.find((a) => a.kind === 'mobile_number_change');
    const erasedAt = app.personalDataErasedAt;
    // Erased: one row that says so and when, not four empty ones.
    const person = erasedAt
      ? [[t('personalData'), h('strong', {}, time(erasedAt, t('erasedValue', { date: fmtDateTime(erasedAt) })))]]
      : [
        [t('familyName'), app.familyName ?? ts('common.none')],
        [t('givenNames'), app.givenNames ?? ts('common.none')],
        [t('dateOfBirth'), fmtDateOfBirth(app.dateOfBirth)],
        [t('mobileNumber'), [app.mobileNumber ? h('span', { class: 'nowrap' }, app.mobileNumberDisplay || app.mobileNumber) : ts('common.none'),
          change ? [h('br'), h('span', { class: 'muted' }, t('pendingNumber', { number: maskedNumber(change.mobileNumber) }))] : null]],
      ];
    return summaryList([
      [t('vorgangsnummer'), h('span', { class: 'mono' }, displayVorgangsnummer(app.vorgangsnummer))],
      ...person,
      app.mobileNumberChangedAt ? [t('mobileNumberChangedAt'), time(app.mobileNumberChangedAt, fmtDateTime(app.mobileNumberChangedAt))] : null,
      [t('documentType'), ts(`doc.${app.documentType}`)],
      [t('issuance'), ts(`issuance.${app.issuance}`)],
      app.issuance === 'renewal' ? [t('oldDocumentCan'), erasedAt ? t('erasedShort') : t(app.hasOldDocumentCan ? 'canStored' : 'canMissing')] : null,
      [t('smsLanguage'), languageName(app.smsLanguage)],
      [t('site'), siteNames?.get(app.siteId) ?? ts('common.none')],
      app.householdGroup ? [t('household'), t('householdShared')] : null,
      [t('createdAt'), time(app.createdAt, fmtDateTime(app.createdAt))],
      [t('updatedAt'), time(app.updatedAt, fmtDateTime(app.updatedAt))],
    ]);
  }

  function pickupList(app) {
    const a = app.assignment;
    return summaryList([
      [t('state'), badge(app.state)],
      [t('pickupMethod'), ts(`pickup.${app.pickupMethod}`)],
      app.pickupMethod === 'box' ? [t('accessible'), app.personalDataErasedAt ? t('erasedShort') : yesNo(app.needsAccessibleCompartment)] : null,
      a ? [t('compartment'), [t('compartmentValue', { box: a.boxName, number: a.compartmentNumber }), h('br'), h('span', { class: 'muted' }, t(`assignment.${a.status}`))]] : null,
      app.pickupDeadline ? [t('deadline'), time(app.pickupDeadline, t('deadlineValue', { date: fmtDate(app.pickupDeadline) }))] : null,
      [t('contactRequired'), app.contactRequired ? h('strong', { class: 'detail-warning-text' }, ts('common.yes')) : ts('common.no')],
      app.collectedAt ? [t('collectedAt'), time(app.collectedAt, fmtDateTime(app.collectedAt))] : null,
      app.handover ? [t('handedOverTo'), app.handover.recipient === 'proxy'
        ? (app.handover.proxyName ? `${capitalised(t('proxy'))}: ${app.handover.proxyName}` : app.personalDataErasedAt ? t('proxyErased') : capitalised(t('proxy')))
        : capitalised(t('applicant'))] : null,
      app.cancelReason ? [t('cancelReason'), app.cancelReason]
        : app.state === 'cancelled' && app.personalDataErasedAt ? [t('cancelReason'), t('erasedShort')] : null,
    ]);
  }

  function feeList(app) {
    return summaryList([
      [t('amount'), fmtMoney(app.fee.amountCents)],
      [t('exemption'), app.fee.exemption ? ts(`exemption.${app.fee.exemption}`) : app.personalDataErasedAt ? t('erasedShort') : t('noExemption')],
      [t('settled'), app.fee.amountCents === 0 && !app.fee.settled ? t('notDue') : yesNo(app.fee.settled)],
    ]);
  }

  function eventDetails(e) {
    const d = e.detail || {};
    const parts = [];
    if (d.mode && hasKey(`ev.mode.${d.mode}`)) parts.push(t(`ev.mode.${d.mode}`));
    if (e.action === 'application.loaded' && d.compartment) parts.push(t('ev.compartmentNumber', { number: d.compartment }));
    if (d.pickupDeadline) parts.push(t('deadlineValue', { date: fmtDate(d.pickupDeadline) }));
    if (d.fields) parts.push(t('ev.changed', { fields: d.fields.split(',').map((f) => (hasKey(`field.${f}`) ? t(`field.${f}`) : f)).join(', ') }));
    if (d.state) parts.push(t('ev.newState', { state: ts(`state.${d.state}`) }));
    if (d.from) parts.push(t('ev.from', { state: ts(`state.${d.from}`) }));
    if (d.kind && hasKey(`sms.${d.kind}`)) parts.push(t('ev.smsKind', { kind: t(`sms.${d.kind}`) }));
    if (d.recipient && hasKey(`ev.recipient.${d.recipient}`)) parts.push(t(`ev.recipient.${d.recipient}`));
    if (d.feePaid === 'true') parts.push(t('ev.feePaid'));
    if (e.action === 'application.registered' && d.pickupMethod) parts.push(t('ev.pickupMethod', { method: ts(`pickup.${d.pickupMethod}`) }));
    if (e.action === 'application.personal_data_erased' && hasKey(`ev.reason.${d.reason}`)) parts.push(t(`ev.reason.${d.reason}`));
    return parts.join(' · ');
  }

  function eventTitle(e) {
    // A handover at the counter and the box's confirmation of a pickup share one action.
    const specific = `ev.${e.action}.${e.detail?.place || e.actorKind}`;
    if (hasKey(specific)) return t(specific);
    if (hasKey(`ev.${e.action}`)) return t(`ev.${e.action}`);
    return t('ev.other', { action: e.action.replace(/^application\./, '').replace(/[._]/g, ' ') });
  }

  function timeline(events) {
    if (!events.length) return h('p', { class: 'muted' }, t('noEvents'));
    return h('ol', { class: 'timeline' }, events.map((e) => {
      const details = eventDetails(e);
      return h('li', {},
        h('p', { class: 'timeline-when' }, time(e.at, fmtDateTime(e.at)), ' · ', h('span', {}, hasKey(`actor.${e.actorKind}`) ? t(`actor.${e.actorKind}`) : e.actorKind)),
        h('p', { class: 'timeline-what' }, eventTitle(e)),
        details ? h('p', { class: 'timeline-detail' }, details) : null);
    }));
  }

  function smsTable(messages) {
    if (!messages.length) return h('p', { class: 'muted' }, t('noSms'));
    const cols = ['kind', 'status', 'to', 'attempts', 'error', 'created', 'sent'];
    return h('div', { class: 'table-wrap' }, h('table', { class: 'sms-table' },
      h('caption', { class: 'visually-hidden' }, t('smsCaption')),
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', class: c === 'attempts' ? 'num' : undefined }, t(`col.${c}`))))),
      h('tbody', {}, messages.map((m) => h('tr', {},
        h('td', {}, hasKey(`sms.${m.kind}`) ? t(`sms.${m.kind}`) : m.kind),
        h('td', {}, h('span', { class: `sms-status sms-${m.status}` }, hasKey(`smsStatus.${m.status}`) ? t(`smsStatus.${m.status}`) : m.status),
          m.nextAttemptAt && m.status === 'queued' ? [h('br'), h('span', { class: 'muted' }, t('nextAttempt', { time: fmtDateTime(m.nextAttemptAt) }))] : null,
          m.finalAt ? [h('br'), h('span', { class: 'muted' }, t('finalAt', { time: fmtDateTime(m.finalAt) }))] : null),
        h('td', { class: 'mono nowrap' }, m.to),
        h('td', { class: 'num' }, String(m.attempts)),
        h('td', {}, m.error || ts('common.none')),
        h('td', { class: 'nowrap' }, fmtDateTime(m.createdAt)),
        h('td', { class: 'nowrap' }, m.sentAt ? fmtDateTime(m.sentAt) : ts('common.none')))))));
  }

  /** The application's requests for approval: what, its state, the number (masked), who asked and who decided, when. */
  function approvalsTable(approvals) {
    const byAt = (who, at) => (who ? t('byAt', { name: who.displayName, time: fmtDateTime(at) }) : ts('common.none'));
    return h('div', { class: 'table-wrap' }, h('table', { class: 'approvals-table' },
      h('caption', { class: 'visually-hidden' }, t('approvalsCaption')),
      h('thead', {}, h('tr', {}, ['request', 'status', 'number', 'requestedBy', 'decidedBy'].map((c) => h('th', { scope: 'col' }, t(`col.${c}`))))),
      h('tbody', {}, approvals.map((a) => h('tr', {},
        h('td', {}, ts(`approvalKind.${a.kind}`)),
        h('td', {}, h('span', { class: `badge badge-approval-${a.state}` }, ts(`approvalState.${a.state}`))),
        h('td', { class: 'mono nowrap' }, maskedNumber(a.mobileNumber)),
        h('td', {}, byAt(a.requestedBy, a.requestedAt)),
        h('td', {}, a.decidedBy ? byAt(a.decidedBy, a.decidedAt) : a.decidedAt ? fmtDateTime(a.decidedAt) : ts('common.none')))))));
  }

  // --- actions ------------------------------------------------------------------------------------

  function contactNotice(app) {
    const button = h('button', { type: 'button', class: 'button secondary' }, t('clearContact'));
    button.addEventListener('click', () => act(() => api('PATCH', path, { body: { contactRequired: false } }), () => t('done.contact')));
    return h('div', { class: 'notice notice-warning detail-contact' }, h('p', {}, t('contactNotice')), h('div', { class: 'button-row' }, button));
  }

  function actionsSection(app, pending, locked) {
    const open = OPEN(app.state);
    // Without name and mobile number there is no letter, no SMS and so no PIN: those actions are gone.
    const erased = Boolean(app.personalDataErasedAt);
    const buttons = [];
    const panels = [];
    const hints = [];
    const add = (label, onClick, kind = 'secondary') => {
      const button = h('button', { type: 'button', class: ['button', kind] }, label);
      button.addEventListener('click', () => onClick(button));
      buttons.push(button);
      return button;
    };
    // While a new PIN waits for approval, asking again would only add a second request.
    const pinPending = pending.some((a) => a.kind === 'pin_reissue');
    if (app.state === 'ready_in_box' && app.assignment?.status === 'loaded' && !erased && !pinPending) {
      // How many new PINs a day is the server's rule: it answers 429 when they are used up.
      // Within 24 hours of a number change the server answers 202 with a request for approval instead.
      add(t(locked ? 'newPinLocked' : 'newPin'), () => act(() => api('POST', `${path}/pin`),
        (result) => (result?.requestedBy ? { warning: t('done.pinRequested') } : t(locked ? 'done.pinUnlocked' : 'done.pin')), { rate_limited: t('err.pinLimit') }));
      hints.push(t('newPinHint'));
    }
    if (app.pickupMethod === 'box' && BEFORE_ASSIGNMENT.includes(app.state)) {
      add(t('toCounter'), () => act(() => api('PATCH', path, { body: { pickupMethod: 'counter' } }),
        (result) => t(result.state === 'ready_at_counter' ? 'done.counterReady' : 'done.counter')));
    }
    if (app.pickupMethod === 'box' && (app.state === 'delivered' || app.state === 'assigned') && !erased) {
      if (feeOpen(app)) hints.push(t('feeBlocksBox'));
      else {
        add(t(app.state === 'assigned' ? 'reassign' : 'assign'), () => act(() => api('POST', `${path}/assignment`),
          (result) => t('done.assign', { box: result.assignment?.boxName ?? '', number: result.assignment?.compartmentNumber ?? '' })));
        const choose = chooseForm(app);
        panels.push(choose.panel);
        add(t('chooseCompartment'), (b) => choose.open(b));
      }
    }
    const releaseConfirm = h('div', { class: 'detail-confirm', hidden: true });
    if (app.state === 'assigned') {
      // "Freigeben" is the four-eyes decision; giving the compartment back is "Zuweisung aufheben".
      add(t('release'), async () => {
        const a = app.assignment;
        const ok = await confirmStep(releaseConfirm, {
          question: t('releaseQuestion', { number: a?.compartmentNumber ?? '', box: a?.boxName ?? '' }),
          detail: t('releaseDetail'), confirm: t('releaseConfirm'), danger: false,
        });
        if (ok) act(() => api('DELETE', `${path}/assignment`), () => t('done.release'));
      });
    }
    if (open && !erased) {
      const contact = contactForm(app);
      panels.push(contact.panel);
      const editButton = add(t('editContact'), (b) => contact.open(b));
      if (contact.restored) contact.open(editButton);
    }
    // Cancelling cannot be undone: last, in its own row, apart from the everyday actions.
    let cancelButton = null;
    if (open) {
      const cancel = cancelForm(app);
      panels.push(cancel.panel);
      cancelButton = h('button', { type: 'button', class: 'button danger' }, t('cancel'));
      cancelButton.addEventListener('click', () => cancel.open(cancelButton));
      if (cancel.restored) cancel.open(cancelButton);
    }
    const letter = open && !erased ? h('a', { href: `#/applications/${appId}/letter`, class: 'button secondary' }, t('letter')) : null;
    const supervisor = ctx.me?.user?.role === 'supervisor';
    return h('section', { class: 'detail-actions no-print', 'aria-labelledby': 'detail-actions' },
      h('h2', { id: 'detail-actions' }, t('actions')),
      open ? null : h('p', {}, t('noActions')),
      pending.map((a) => h('p', { class: 'detail-waiting' },
        t('waiting', { kind: ts(`approvalKind.${a.kind}`), name: a.requestedBy.displayName, time: fmtDateTime(a.requestedAt) }),
        supervisor ? [' ', h('a', { href: '#/approvals' }, t('toApprovals'))] : null)),
      buttons.length || letter ? h('div', { class: 'button-row' }, buttons, letter) : null,
      releaseConfirm,
      hints.map((text) => h('p', { class: 'hint' }, text)),
      cancelButton ? h('div', { class: 'button-row detail-danger-row' }, cancelButton) : null,
      panels);
  }

  /**
   * Supervisors: everything held about the application as a JSON file (GET …/export, Art. 15 GDPR;
   * the server records the export), and the application's entries in the audit log.
   */
  function privacySection(app) {
    const status = statusArea();
    const file = t('exportFile', { vn: app.vorgangsnummer });
    const button = h('button', { type: 'button', class: 'button secondary', 'aria-describedby': 'detail-export-hint' }, t('export'));
    button.addEventListener('click', async () => {
      button.disabled = true;
      status.clear();
      try {
        const response = await api('GET', `${path}/export`, { raw: true, signal: ctx.signal });
        download(file, await response.text(), 'application/json;charset=utf-8');
        status.say('success', t('exported', { file }));
      } catch (e) {
        if (e?.name === 'AbortError' || (e instanceof ApiError && e.status === 401)) return;
        status.say('error', actionError(e));
      } finally {
        button.disabled = false;
      }
    });
    return h('section', { class: 'detail-privacy no-print', 'aria-labelledby': 'detail-privacy' },
      h('h2', { id: 'detail-privacy' }, t('privacy')),
      h('div', { class: 'button-row' }, button,
        h('a', { href: `#/privacy?entityType=application&entityId=${app.id.toLowerCase()}` }, t('auditLink'))),
      h('p', { class: 'hint', id: 'detail-export-hint' }, t('exportHint')),
      status.el);
  }

  /** A form panel below the action buttons; closing it returns the focus to the button that opened it. */
  function panel(title, form) {
    const heading = h('h3', { tabindex: '-1' }, title);
    const el = h('div', { class: 'detail-panel', hidden: true }, heading, form);
    let opener = null;
    return {
      el,
      open(button) { opener = button; el.hidden = false; heading.focus(); },
      close() { el.hidden = true; opener?.focus(); },
    };
  }

  /** Shows field errors ({input, setError} per name) and the summary; returns whether there were any. */
  function showErrors(summary, fields, problems) {
    const list = [];
    for (const [name, f] of Object.entries(fields)) {
      f.setError(problems[name] || null);
      if (problems[name]) list.push({ message: problems[name], input: f.input });
    }
    errorSummary(summary, ts('common.errorSummary'), list);
    return list.length > 0;
  }

  /** Submits a form's request: 400 with a known field → at that field; anything else → page notice. */
  async function submitForm({ submit, summary, fields, request, success, fieldMessage, kept }) {
    submit.disabled = true;
    let result;
    try {
      result = await request();
    } catch (e) {
      submit.disabled = false;
      if (e?.name === 'AbortError' || (e instanceof ApiError && e.status === 401)) return;
      if (e instanceof ApiError && (e.status === 400 || e.status === 409) && e.field && fields[e.field]) {
        showErrors(summary, fields, { [e.field]: fieldMessage(e) });
        return;
      }
      await reload(notice('error', h('p', {}, actionError(e))));
      return;
    }
    kept.clear();
    await reload(notice('success', h('p', {}, success(result))));
  }

  function cancelForm(app) {
    const reason = field({ label: t('reason'), name: 'reason', hint: t('reasonHint'), attrs: { autocomplete: 'off' } });
    const summary = h('div', { class: 'error-summary', tabindex: '-1', hidden: true });
    const submit = h('button', { type: 'submit', class: 'button danger' }, t('confirmCancel'));
    const keep = h('button', { type: 'button', class: 'button secondary' }, t('keep'));
    const loaded = app.assignment && app.assignment.status !== 'assigned';
    const form = h('form', { novalidate: true },
      summary,
      loaded ? notice('warning', h('p', {}, t('cancelLoaded'))) : null,
      reason.wrap,
      h('div', { class: 'button-row' }, submit, keep));
    const p = panel(t('cancelTitle'), form);
    const kept = ctx.keepForm(form, 'cancel');
    keep.addEventListener('click', () => { kept.clear(); form.reset(); showErrors(summary, { reason }, {}); p.close(); });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = reason.input.value.trim();
      // Length and characters are the server's to judge: it answers at the field.
      if (showErrors(summary, { reason }, text ? {} : { reason: t('reasonMissing') })) return;
      submitForm({
        submit, summary, fields: { reason }, kept,
        request: () => api('POST', `${path}/cancel`, { body: { reason: text } }),
        success: () => t('done.cancel'),
        fieldMessage: (e) => (e.code === 'too_long' ? t('reasonTooLong') : e.code === 'missing_field' ? t('reasonMissing') : actionError(e)),
      });
    });
    return { panel: p.el, open: p.open, restored: kept.restored && Boolean(reason.input.value) };
  }

  /** A compartment by box and number, as staff name it at the box. */
  function chooseForm(app) {
    const box = field({ label: t('chooseBox'), name: 'boxId', options: [] });
    const number = field({ label: t('chooseNumber'), name: 'compartmentNumber', hint: t('chooseNumberHint'), inputmode: 'numeric', attrs: { autocomplete: 'off' } });
    const summary = h('div', { class: 'error-summary', tabindex: '-1', hidden: true });
    const submit = h('button', { type: 'submit', class: 'button' }, t('chooseSubmit'));
    const close = h('button', { type: 'button', class: 'button secondary' }, ts('common.cancel'));
    const form = h('form', { novalidate: true }, summary, box.wrap, number.wrap, h('div', { class: 'button-row' }, submit, close));
    const p = panel(t('chooseTitle'), form);
    const kept = ctx.keepForm(form, 'choose');
    const fields = { boxId: box, compartmentNumber: number };
    // The boxes of the application's site, loaded when the panel opens.
    async function open(button) {
      const boxes = (await api('GET', '/api/v1/boxes', { signal: ctx.signal })).filter((b) => b.siteId.toLowerCase() === app.siteId.toLowerCase());
      replace(box.input, ...boxes.map((b) => h('option', { value: b.id }, b.name)));
      p.open(button);
    }
    close.addEventListener('click', () => { kept.clear(); form.reset(); showErrors(summary, fields, {}); p.close(); });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const n = Number.parseInt(number.input.value.trim(), 10);
      if (showErrors(summary, fields, Number.isInteger(n) && n > 0 ? {} : { compartmentNumber: t('chooseNumberMissing') })) return;
      submitForm({
        submit, summary, fields, kept,
        request: () => api('POST', `${path}/assignment`, { body: { boxId: box.input.value, compartmentNumber: n } }),
        success: (result) => t('done.assign', { box: result.assignment?.boxName ?? '', number: result.assignment?.compartmentNumber ?? '' }),
        fieldMessage: (e) => actionError(e),
      });
    });
    return { panel: p.el, open };
  }

  function contactForm(app) {
    const approval = NUMBER_NEEDS_APPROVAL.includes(app.state);
    const mobile = field({ label: t('mobileNumber'), name: 'mobileNumber', type: 'tel', hint: approval ? `${t('mobileHint')} ${t('mobileApprovalHint')}` : t('mobileHint'),
      value: app.mobileNumber || '', autocomplete: 'off' });
    const language = field({ label: t('smsLanguage'), name: 'smsLanguage', value: app.smsLanguage, options: languageOptions(app.smsLanguage) });
    // Only an open fee can be marked paid here; the handover at the counter takes it too. A
    // confirmation is never kept for a later visit.
    const fee = feeOpen(app) ? field({ label: t('feeSettledField'), name: 'feeSettled', type: 'checkbox', attrs: { 'data-no-keep': true },
      hint: [t('feeOpenHint', { amount: fmtMoney(app.fee.amountCents) }), app.pickupMethod === 'box' ? t('feeBoxHint') : ''].join(' ').trim() }) : null;
    const summary = h('div', { class: 'error-summary', tabindex: '-1', hidden: true });
    const submit = h('button', { type: 'submit', class: 'button' }, t('saveChanges'));
    const close = h('button', { type: 'button', class: 'button secondary' }, ts('common.cancel'));
    const form = h('form', { novalidate: true }, summary, mobile.wrap, language.wrap, fee?.wrap, h('div', { class: 'button-row' }, submit, close));
    const p = panel(t('contactTitle'), form);
    const kept = ctx.keepForm(form, 'contact');
    const fields = { mobileNumber: mobile, smsLanguage: language, ...(fee ? { feeSettled: fee } : {}) };
    close.addEventListener('click', () => {
      kept.clear();
      mobile.input.value = app.mobileNumber || '';
      language.input.value = app.smsLanguage;
      if (fee) fee.input.checked = false;
      showErrors(summary, fields, {});
      p.close();
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const body = {};
      const number = mobile.input.value.trim();
      if (number !== (app.mobileNumber || '')) body.mobileNumber = number;
      if (language.input.value !== app.smsLanguage) body.smsLanguage = language.input.value;
      if (fee && fee.input.checked) body.feeSettled = true;
      const problems = {};
      if (!number && (app.mobileNumber || app.pickupMethod === 'box')) problems.mobileNumber = t('mobileMissing');
      if (showErrors(summary, fields, problems)) return;
      if (!Object.keys(body).length) { errorSummary(summary, t('nothingChanged')); return; }
      submitForm({
        submit, summary, fields, kept,
        request: () => saveContact(body, approval),
        success: (result) => t(!result.requested ? 'done.saved' : result.saved ? 'done.savedNumberRequested' : 'done.numberRequested'),
        fieldMessage: (e) => (e.code === 'missing_field' ? t('mobileMissing') : actionError(e)),
      });
    });
    return { panel: p.el, open: p.open, restored: kept.restored };
  }

  /**
   * Saves the contact form. Before delivery everything is one PATCH. From delivery on (or when the
   * server says so: the page may be older than a delivery) a new number is asked for first – a
   * wrong number then leaves everything unsaved – and the other fields are patched after it.
   * Resolves to {saved, requested}: whether other fields were saved, whether a number waits.
   */
  async function saveContact(body, approval) {
    const { mobileNumber, ...rest } = body;
    const ask = () => api('POST', `${path}/mobile-number-changes`, { body: { mobileNumber } });
    let requested = false;
    if (mobileNumber !== undefined && approval) {
      await ask();
      requested = true;
    } else if (mobileNumber !== undefined) {
      try {
        await api('PATCH', path, { body });
        return { saved: true, requested: false };
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 'mobile_number_change_needs_approval')) throw e;
        await ask();
        requested = true;
      }
    }
    const saved = Object.keys(rest).length > 0;
    if (saved) await api('PATCH', path, { body: rest });
    return { saved, requested };
  }

  function handoverSection(app) {
    const summary = h('div', { class: 'error-summary', tabindex: '-1', hidden: true });
    const collectedBy = radios({ legend: t('collectedBy'), name: 'collectedBy', options: [['applicant', t('applicant')], ['proxy', t('proxy')]] });
    const proxyName = field({ label: t('proxyName'), name: 'proxyName', autocomplete: 'off', attrs: { spellcheck: 'false' } });
    // The checks are confirmations for this handover: never kept for a later visit.
    const check = (label, name, hint) => field({ label, name, type: 'checkbox', hint, attrs: { 'data-no-keep': true } });
    const attorney = check(t('powerOfAttorney'), 'powerOfAttorneyChecked', t('powerOfAttorneyHint'));
    const proxyFields = h('div', { class: 'detail-reveal', hidden: true }, proxyName.wrap, attorney.wrap);
    const identity = check(t('identity'), 'identityChecked', t('identityHint'));
    const oldDocument = app.issuance === 'renewal' ? check(t('oldDocument'), 'oldDocumentCollected', t('oldDocumentHint')) : null;
    const fee = feeOpen(app) ? check(t('feePaid'), 'feePaid', t('feePaidHint', { amount: fmtMoney(app.fee.amountCents) })) : null;
    const submit = h('button', { type: 'submit', class: 'button' }, t('handover'));
    const form = h('form', { novalidate: true, class: 'handover-form' },
      summary, collectedBy.wrap, proxyFields, identity.wrap, oldDocument?.wrap, fee?.wrap, h('div', { class: 'button-row' }, submit));
    const fields = {
      collectedBy, proxyName, powerOfAttorneyChecked: attorney, identityChecked: identity,
      ...(oldDocument ? { oldDocumentCollected: oldDocument } : {}), ...(fee ? { feeSettled: fee } : {}),
    };
    const showProxy = () => { proxyFields.hidden = collectedBy.value() !== 'proxy'; };
    form.addEventListener('change', showProxy);
    const kept = ctx.keepForm(form, 'handover');
    showProxy();

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const by = collectedBy.value();
      const name = proxyName.input.value.trim();
      const problems = {};
      if (!by) problems.collectedBy = t('collectedBy_missing');
      if (by === 'proxy') {
        if (!name) problems.proxyName = t('proxy_name_missing');
        if (!attorney.input.checked) problems.powerOfAttorneyChecked = t('power_of_attorney_missing');
      }
      if (!identity.input.checked) problems.identityChecked = t('identity_not_checked');
      if (oldDocument && !oldDocument.input.checked) problems.oldDocumentCollected = t('old_document_not_collected');
      if (fee && !fee.input.checked) problems.feeSettled = t('fee_not_settled');
      if (showErrors(summary, fields, problems)) return;
      const body = {
        collectedBy: by,
        powerOfAttorneyChecked: by === 'proxy' && attorney.input.checked,
        identityChecked: identity.input.checked,
        oldDocumentCollected: oldDocument ? oldDocument.input.checked : false,
      };
      // Paid now: only said when a fee is open.
      if (fee) body.feeSettled = fee.input.checked;
      if (by === 'proxy') body.proxyName = name;
      submitForm({
        submit, summary, fields, kept,
        request: () => api('POST', `${path}/handover`, { body }),
        success: () => t('done.handover'),
        fieldMessage: (e) => (e.code === 'too_long' ? t('proxy_name_too_long') : hasKey(e.code) ? t(e.code) : e.field === 'collectedBy' ? t('collectedBy_missing') : actionError(e)),
      });
    });
    return h('section', { class: 'detail-handover', 'aria-labelledby': 'detail-handover' },
      h('h2', { id: 'detail-handover' }, t('handoverTitle')),
      h('p', {}, t('handoverIntro')),
      form);
  }

  try {
    await load(null);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      ctx.setTitle(t('notFound'));
      replace(ctx.main, h('h1', {}, t('notFound')), h('p', {}, h('a', { href: `#${lastSearchPath()}` }, t('backToSearch'))));
      return;
    }
    throw e;
  }
}
