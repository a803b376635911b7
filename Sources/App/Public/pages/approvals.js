// Freigaben (supervisors): the four-eyes requests waiting for a decision – a new mobile number after
// delivery, a new PIN to a number changed within 24 hours – with "Freigeben" and "Ablehnen" after a
// confirm step. Nobody decides their own request (the server refuses it too): the row says why
// instead of offering the buttons. After a decision the row says the outcome (role=status); below,
// the requests decided in the last days.

import { h, replace, confirmStep } from '../dom.js';
import { api, ApiError } from '../api.js';
import { makeT, ts, fmtDateTime, errorText } from '../i18n.js';
import { displayVorgangsnummer } from '../vorgangsnummer.js';

export const css = true;

/** How far back the decided requests go. */
const DECIDED_DAYS = 7;

const t = makeT({
  de: {
    title: 'Freigaben',
    intro: 'Anfragen, die eine zweite Person der Leitung freigeben muss (Vier-Augen-Prinzip): eine neue Mobilnummer nach der Lieferung und eine neue PIN an eine Nummer, die in den letzten 24 Stunden geändert wurde. Bis zur Freigabe ändert sich nichts. Wer eine Anfrage gestellt hat, kann sie nicht selbst entscheiden.',
    refresh: 'Liste aktualisieren',
    pending: 'Offene Anfragen',
    pendingCaption: 'Anfragen, die auf Freigabe warten, die neuesten zuerst',
    nonePending: 'Keine Anfrage wartet auf Freigabe.',
    more: 'Gezeigt werden die neuesten {shown} von {total} offenen Anfragen.',
    'col.vn': 'Vorgangsnummer',
    'col.kind': 'Anfrage',
    'col.current': 'Nummer jetzt',
    'col.requested': 'Angefragte Nummer',
    'col.requestedBy': 'Angefragt von',
    'col.decision': 'Entscheidung',
    'col.state': 'Ergebnis',
    'col.decidedBy': 'Entschieden von',
    approve: 'Freigeben',
    reject: 'Ablehnen',
    forVn: ' ({vn})',
    own: 'Ihre eigene Anfrage: Eine andere Person der Leitung muss sie entscheiden.',
    'confirmApprove.mobile_number_change': 'Neue Mobilnummer für {vn} freigeben?',
    'confirmApproveDetail.mobile_number_change': 'Die Nummer {number} gilt dann sofort, SMS und PINs gehen an sie. Die bisherige Nummer {current} bekommt eine SMS, dass die Nummer geändert wurde (ohne die neue Nummer).',
    'confirmApprove.pin_reissue': 'Neue PIN für {vn} freigeben?',
    'confirmApproveDetail.pin_reissue': 'Eine neue PIN geht per SMS an {number}, das Fach wird entsperrt und die alte PIN gilt nicht mehr.',
    confirmApproveButton: 'Ja, freigeben',
    confirmReject: 'Anfrage für {vn} ablehnen?',
    confirmRejectDetail: 'Es ändert sich nichts. Die Ablehnung steht beim Antrag.',
    confirmRejectButton: 'Ja, ablehnen',
    'done.approved.mobile_number_change': 'Freigegeben: Die neue Nummer gilt, die bisherige Nummer bekommt eine SMS.',
    'done.approved.pin_reissue': 'Freigegeben: Die neue PIN ist per SMS unterwegs.',
    'done.rejected': 'Abgelehnt: Es ändert sich nichts.',
    decided: 'Entschieden in den letzten {days} Tagen',
    decidedCaption: 'In den letzten {days} Tagen entschiedene Anfragen, die neuesten zuerst',
    noneDecided: 'In den letzten {days} Tagen wurde keine Anfrage entschieden.',
  },
  en: {
    title: 'Approvals',
    intro: 'Requests a second supervisor must approve (four-eyes principle): a new mobile number after delivery, and a new PIN to a number changed within the last 24 hours. Nothing changes until then. Whoever made a request cannot decide it.',
    refresh: 'Refresh the list',
    pending: 'Pending requests',
    pendingCaption: 'Requests awaiting approval, newest first',
    nonePending: 'No request awaits approval.',
    more: 'Showing the newest {shown} of {total} pending requests.',
    'col.vn': 'Vorgangsnummer (reference number)',
    'col.kind': 'Request',
    'col.current': 'Number now',
    'col.requested': 'Number asked for',
    'col.requestedBy': 'Requested by',
    'col.decision': 'Decision',
    'col.state': 'Outcome',
    'col.decidedBy': 'Decided by',
    approve: 'Approve',
    reject: 'Reject',
    forVn: ' ({vn})',
    own: 'Your own request: another supervisor must decide it.',
    'confirmApprove.mobile_number_change': 'Approve the new mobile number for {vn}?',
    'confirmApproveDetail.mobile_number_change': 'The number {number} applies at once; SMS and PINs go to it. The previous number {current} gets an SMS that the number was changed (without the new number).',
    'confirmApprove.pin_reissue': 'Approve the new PIN for {vn}?',
    'confirmApproveDetail.pin_reissue': 'A new PIN goes by SMS to {number}, the compartment is unlocked and the old PIN stops working.',
    confirmApproveButton: 'Yes, approve',
    confirmReject: 'Reject the request for {vn}?',
    confirmRejectDetail: 'Nothing changes. The rejection is shown with the application.',
    confirmRejectButton: 'Yes, reject',
    'done.approved.mobile_number_change': 'Approved: the new number applies, the previous number gets an SMS.',
    'done.approved.pin_reissue': 'Approved: the new PIN is on its way by SMS.',
    'done.rejected': 'Rejected: nothing changes.',
    decided: 'Decided in the last {days} days',
    decidedCaption: 'Requests decided in the last {days} days, newest first',
    noneDecided: 'No request was decided in the last {days} days.',
  },
});

/** This page's words for the server's refusals of a decision. */
const CODES = {
  de: {
    second_staff_member_required: 'Sie haben diese Anfrage selbst gestellt: Eine andere Person der Leitung muss sie entscheiden.',
    approval_not_pending: 'Diese Anfrage ist schon entschieden oder durch eine neuere ersetzt ({state}).',
    approval_outdated: 'Diese Anfrage passt nicht mehr zum Antrag: Die Mobilnummer hat sich seither geändert. Bitte lehnen Sie sie ab; bei Bedarf wird neu angefragt.',
    rate_limited: 'Für diesen Antrag gibt es heute keine weitere neue PIN. Bitte entscheiden Sie morgen.',
    no_mobile_number: 'Der Antrag hat keine Mobilnummer mehr.',
    illegal_transition: 'Im aktuellen Status des Antrags ({state}) ist das nicht mehr möglich.',
  },
  en: {
    second_staff_member_required: 'You made this request yourself: another supervisor must decide it.',
    approval_not_pending: 'This request was decided or superseded already ({state}).',
    approval_outdated: 'This request no longer fits the application: the mobile number has changed since. Please reject it; a new request can be made if needed.',
    rate_limited: 'There is no further new PIN for this application today. Please decide tomorrow.',
    no_mobile_number: 'The application no longer has a mobile number.',
    illegal_transition: 'This is no longer possible in the application’s current state ({state}).',
  },
};

const sameId = (a, b) => Boolean(a && b) && a.toLowerCase() === b.toLowerCase();
const when = (value) => h('time', { datetime: value }, fmtDateTime(value));
const hidden = (text) => h('span', { class: 'visually-hidden' }, text);
const stateBadge = (state) => h('span', { class: `badge badge-approval-${state}` }, ts(`approvalState.${state}`));
const person = (who, at) => (who ? [who.displayName, h('br'), h('span', { class: 'muted' }, when(at))] : at ? when(at) : ts('common.none'));
const vnLink = (a) => h('a', { href: `#/applications/${a.applicationId}`, class: 'mono nowrap' }, displayVorgangsnummer(a.vorgangsnummer));
const number = (value) => h('span', { class: 'mono nowrap' }, value || ts('common.none'));

/** Requests of one state, newest first (one page is plenty for a few days). */
async function list(ctx, state, limit) {
  return api('GET', '/api/v1/approvals', { query: { state, limit }, signal: ctx.signal });
}

export async function render(ctx) {
  ctx.setTitle(t('title'));
  const since = Date.now() - DECIDED_DAYS * 24 * 3600 * 1000;
  const [pending, approved, rejected] = await Promise.all([
    list(ctx, 'pending', 200), list(ctx, 'approved', 100), list(ctx, 'rejected', 100),
  ]);
  const decided = [...approved.items, ...rejected.items]
    .filter((a) => a.decidedAt && new Date(a.decidedAt).getTime() >= since)
    .sort((a, b) => new Date(b.decidedAt) - new Date(a.decidedAt));
  let open = pending.items.length;
  const tellCount = () => window.dispatchEvent(new CustomEvent('pickupbox:approvals', { detail: { pending: Math.max(0, pending.total - (pending.items.length - open)) } }));
  tellCount();

  /** One pending request: its row, and a row below it for the confirm step. */
  function pendingRows(a) {
    const vn = displayVorgangsnummer(a.vorgangsnummer);
    const outcome = h('p', { class: 'approval-outcome', role: 'status', tabindex: '-1' });
    const confirmWrap = h('div', { hidden: true });
    const confirmRow = h('tr', { class: 'approval-confirm-row', hidden: true }, h('td', { colspan: '6' }, confirmWrap));
    const own = sameId(a.requestedBy?.id, ctx.me.user.id);
    const buttons = own ? null : h('div', { class: 'button-row approval-buttons' },
      h('button', { type: 'button', class: 'button' }, t('approve'), hidden(t('forVn', { vn }))),
      h('button', { type: 'button', class: 'button secondary' }, t('reject'), hidden(t('forVn', { vn }))));

    async function decide(decision) {
      const approve = decision === 'approve';
      confirmRow.hidden = false;
      const ok = await confirmStep(confirmWrap, approve
        ? { question: t(`confirmApprove.${a.kind}`, { vn }), detail: t(`confirmApproveDetail.${a.kind}`, { number: a.mobileNumber ?? '—', current: a.currentMobileNumber ?? '—' }), confirm: t('confirmApproveButton'), danger: false }
        : { question: t('confirmReject', { vn }), detail: t('confirmRejectDetail'), confirm: t('confirmRejectButton') });
      confirmRow.hidden = true;
      if (!ok) return;
      for (const b of buttons.querySelectorAll('button')) b.disabled = true;
      outcome.classList.remove('approval-outcome-error');
      try {
        const result = await api('POST', `/api/v1/approvals/${a.id}/${decision}`);
        buttons.remove();
        open -= 1;
        tellCount();
        replace(outcome, result.state === 'approved' ? t(`done.approved.${a.kind}`) : t('done.rejected'));
      } catch (e) {
        if (e?.name === 'AbortError' || (e instanceof ApiError && e.status === 401)) return;
        const settled = e instanceof ApiError && (e.code === 'approval_not_pending' || e.code === 'second_staff_member_required');
        const vars = e instanceof ApiError && e.code === 'approval_not_pending' && e.body?.state ? { state: ts(`approvalState.${e.body.state}`) } : {};
        outcome.classList.add('approval-outcome-error');
        replace(outcome, errorText(e, { codes: CODES, vars }));
        if (settled) { buttons.remove(); open -= 1; tellCount(); } else for (const b of buttons.querySelectorAll('button')) b.disabled = false;
      }
      // The pressed button is gone or was disabled: keyboard users continue at the outcome.
      if (!buttons.isConnected || !buttons.contains(document.activeElement)) outcome.focus();
    }
    if (buttons) {
      const [approveButton, rejectButton] = buttons.querySelectorAll('button');
      approveButton.addEventListener('click', () => decide('approve'));
      rejectButton.addEventListener('click', () => decide('reject'));
    }
    return [
      h('tr', {},
        h('th', { scope: 'row' }, vnLink(a)),
        h('td', {}, ts(`approvalKind.${a.kind}`)),
        h('td', {}, number(a.currentMobileNumber)),
        h('td', {}, number(a.mobileNumber)),
        h('td', {}, person(a.requestedBy, a.requestedAt)),
        h('td', { class: 'approval-decision' }, own ? h('p', { class: 'approval-own' }, t('own')) : buttons, outcome)),
      confirmRow,
    ];
  }

  const pendingPart = pending.items.length
    ? [
      pending.total > pending.items.length ? h('p', { class: 'hint' }, t('more', { shown: pending.items.length, total: pending.total })) : null,
      h('div', { class: 'table-wrap' }, h('table', { class: 'approvals-table' },
        h('caption', { class: 'visually-hidden' }, t('pendingCaption')),
        h('thead', {}, h('tr', {}, ['vn', 'kind', 'current', 'requested', 'requestedBy', 'decision'].map((c) => h('th', { scope: 'col' }, t(`col.${c}`))))),
        h('tbody', {}, pending.items.map(pendingRows)))),
    ]
    : h('p', {}, t('nonePending'));

  const decidedPart = decided.length
    ? h('div', { class: 'table-wrap' }, h('table', { class: 'approvals-table' },
      h('caption', { class: 'visually-hidden' }, t('decidedCaption', { days: DECIDED_DAYS })),
      h('thead', {}, h('tr', {}, ['vn', 'kind', 'state', 'requestedBy', 'decidedBy'].map((c) => h('th', { scope: 'col' }, t(`col.${c}`))))),
      h('tbody', {}, decided.map((a) => h('tr', {},
        h('th', { scope: 'row' }, vnLink(a)),
        h('td', {}, ts(`approvalKind.${a.kind}`)),
        h('td', {}, stateBadge(a.state)),
        h('td', {}, person(a.requestedBy, a.requestedAt)),
        h('td', {}, person(a.decidedBy, a.decidedAt)))))))
    : h('p', { class: 'muted' }, t('noneDecided', { days: DECIDED_DAYS }));

  ctx.main.append(
    h('h1', {}, t('title')),
    h('p', {}, t('intro')),
    h('div', { class: 'button-row' }, h('button', { type: 'button', class: 'button secondary', on: { click: () => ctx.navigate('/approvals') } }, t('refresh'))),
    h('section', { 'aria-labelledby': 'approvals-pending' }, h('h2', { id: 'approvals-pending' }, t('pending')), pendingPart),
    h('section', { 'aria-labelledby': 'approvals-decided' }, h('h2', { id: 'approvals-decided' }, t('decided', { days: DECIDED_DAYS })), decidedPart));
}
