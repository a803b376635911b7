// Boxes: every pickup box of the authority with its site, whether it is online, its compartment
// counts and an alert while it refuses pickups or loading; each links to its compartment grid and lists.

import { h, notice } from '../dom.js';
import { api } from '../api.js';
import { makeT, fmtDateTime, fmtNumber } from '../i18n.js';
import { connection, pickupsBlocked, pickupsBlockedText, loadingBlocked, loadingBlockedText } from '../box-status.js';

export const css = true;

const t = makeT({
  de: {
    title: 'Boxen',
    intro: 'Die Abholboxen Ihrer Behörde. Wählen Sie eine Box für ihre Fächer, die Beladeliste und die Entnahmeliste.',
    none: 'Ihre Behörde hat noch keine Box.',
    caption: 'Boxen und ihre Fächer',
    box: 'Box',
    site: 'Standort',
    connection: 'Verbindung',
    total: 'Fächer',
    available: 'Frei',
    occupied: 'Belegt',
    blocked: 'Gesperrt',
    pickupsBlockedAlert: '{box}: Abholungen gesperrt bis {time} – zu viele Fehlversuche an der Box. Bitte prüfen Sie, ob jemand Hilfe braucht.',
    loadingBlockedAlert: '{box}: Beladen gesperrt bis {time} – zu viele abgelehnte Dienstausweise oder unbekannte Dokumente beim Beladen. Bitte prüfen Sie, was an der Box geschieht.',
  },
  en: {
    title: 'Boxes',
    intro: 'Your authority’s pickup boxes. Choose a box for its compartments, loading list and retrieval list.',
    none: 'Your authority has no box yet.',
    caption: 'Boxes and their compartments',
    box: 'Box',
    site: 'Site',
    connection: 'Connection',
    total: 'Compartments',
    available: 'Free',
    occupied: 'Occupied',
    blocked: 'Blocked',
    pickupsBlockedAlert: '{box}: pickups blocked until {time} – too many failed attempts at the box. Please check whether someone needs help.',
    loadingBlockedAlert: '{box}: loading blocked until {time} – too many refused staff badges or unknown documents while loading. Please check what is going on at the box.',
  },
});

export async function render(ctx) {
  ctx.setTitle(t('title'));
  const boxes = await api('GET', '/api/v1/boxes', { signal: ctx.signal });
  ctx.main.append(h('h1', {}, t('title')), h('p', {}, t('intro')));
  for (const box of boxes.filter(pickupsBlocked)) {
    ctx.main.append(notice('warning', h('p', {}, t('pickupsBlockedAlert', { box: box.name, time: fmtDateTime(box.pickupsBlockedUntil) }))));
  }
  for (const box of boxes.filter(loadingBlocked)) {
    ctx.main.append(notice('warning', h('p', {}, t('loadingBlockedAlert', { box: box.name, time: fmtDateTime(box.loadingBlockedUntil) }))));
  }
  if (!boxes.length) {
    ctx.main.append(h('p', {}, t('none')));
    return;
  }
  const num = (n) => h('td', { class: 'num' }, fmtNumber(n));
  ctx.main.append(h('div', { class: 'table-wrap' }, h('table', { class: 'boxes-table' },
    h('caption', { class: 'visually-hidden' }, t('caption')),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('box')), h('th', { scope: 'col' }, t('site')), h('th', { scope: 'col' }, t('connection')),
      h('th', { scope: 'col', class: 'num' }, t('total')), h('th', { scope: 'col', class: 'num' }, t('available')),
      h('th', { scope: 'col', class: 'num' }, t('occupied')), h('th', { scope: 'col', class: 'num' }, t('blocked')))),
    h('tbody', {}, boxes.map((box) => {
      const conn = connection(box);
      const blocked = [pickupsBlockedText(box), loadingBlockedText(box)].filter(Boolean);
      return h('tr', {},
        h('th', { scope: 'row' }, h('a', { href: `#/boxes/${box.id}` }, box.name), blocked.map((text) => h('span', { class: 'box-alert' }, text))),
        h('td', {}, box.siteName),
        h('td', {}, h('span', { class: ['conn', `conn-${conn.kind}`] }, conn.label), h('span', { class: 'conn-detail' }, conn.detail)),
        num(box.compartmentCounts.total), num(box.compartmentCounts.available), num(box.compartmentCounts.occupied), num(box.compartmentCounts.blocked));
    })))));
}
