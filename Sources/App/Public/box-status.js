// How a box is doing, in the same words on every page (dashboard, boxes, one box, administration):
// its connection, and whether it refuses pickups after too many failed attempts, or loading after
// too many refused staff badges or documents it cannot load.

import { makeT, fmtDateTime } from './i18n.js';

const t = makeT({
  de: {
    online: 'Online',
    offline: 'Offline',
    lastSeen: 'zuletzt gemeldet {time}',
    neverSeen: 'noch nie gemeldet',
    noToken: 'kein Token ausgegeben',
    pickupsBlocked: 'Abholungen gesperrt bis {time}',
    loadingBlocked: 'Beladen gesperrt bis {time}',
  },
  en: {
    online: 'Online',
    offline: 'Offline',
    lastSeen: 'last reported {time}',
    neverSeen: 'never reported',
    noToken: 'no token issued',
    pickupsBlocked: 'Pickups blocked until {time}',
    loadingBlocked: 'Loading blocked until {time}',
  },
});

/** {kind: 'online'|'offline', label, detail}: "Online", "zuletzt gemeldet 30.11.2026, 09:12". */
export function connection(box) {
  const kind = box.online ? 'online' : 'offline';
  const detail = box.lastSeenAt ? t('lastSeen', { time: fmtDateTime(box.lastSeenAt) }) : box.hasToken === false ? t('noToken') : t('neverSeen');
  return { kind, label: t(kind), detail };
}

/** Whether the box refuses pickups right now (too many failed attempts). */
export function pickupsBlocked(box) {
  return Boolean(box.pickupsBlockedUntil) && new Date(box.pickupsBlockedUntil) > new Date();
}

/** "Abholungen gesperrt bis 30.11.2026, 10:15", or null while the box takes pickups. */
export function pickupsBlockedText(box) {
  return pickupsBlocked(box) ? t('pickupsBlocked', { time: fmtDateTime(box.pickupsBlockedUntil) }) : null;
}

/** Whether the box refuses loading right now (too many refused staff badges or unknown documents). */
export function loadingBlocked(box) {
  return Boolean(box.loadingBlockedUntil) && new Date(box.loadingBlockedUntil) > new Date();
}

/** "Beladen gesperrt bis 30.11.2026, 10:15", or null while the box can be loaded. */
export function loadingBlockedText(box) {
  return loadingBlocked(box) ? t('loadingBlocked', { time: fmtDateTime(box.loadingBlockedUntil) }) : null;
}
