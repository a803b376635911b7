// Verwaltung › Benutzerkonten: the authority's staff accounts; create one, disable one (after a
// confirm step; its sessions end at once), and register or remove the staff badge that four-eyes
// loading at the box asks for. The badge number itself is never shown again.

import { h, field, replace, radios, formProblems, statusArea, confirmStep } from '../dom.js';
import { api } from '../api.js';
import { makeT, fmtDateTime } from '../i18n.js';
import { CODES, adminText, busy, hidden, table } from './admin.js';

const t = makeT({
  de: {
    heading: 'Benutzerkonten',
    intro: 'Wer sich an pickupbox anmelden darf. Ein deaktiviertes Konto kann sich nicht mehr anmelden; seine offenen Sitzungen enden sofort.',
    username: 'Benutzername',
    displayName: 'Name',
    role: 'Rolle',
    state: 'Status',
    badge: 'Dienstausweis',
    actions: 'Aktionen',
    'role.caseworker': 'Sachbearbeitung',
    'role.supervisor': 'Leitung',
    'role.caseworker.hint': 'Erfasst Anträge, belädt Boxen, gibt am Schalter aus.',
    'role.supervisor.hint': 'Darf zusätzlich die Verwaltung: Konten, Standorte, Boxen, SMS-Texte.',
    active: 'Aktiv',
    disabledSince: 'Deaktiviert seit {when}',
    badgeYes: 'Hinterlegt',
    badgeNo: 'Keiner',
    you: '(Sie)',
    setBadge: 'Dienstausweis hinterlegen',
    changeBadge: 'Dienstausweis ändern',
    removeBadge: 'Dienstausweis entfernen',
    disable: 'Deaktivieren',
    forUser: ' für {name}',
    ofUser: ' von {name}',
    userName: ' ({name})',
    confirmDisable: 'Das Konto „{username}“ ({name}) deaktivieren?',
    confirmDisableDetail: 'Die Person kann sich danach nicht mehr anmelden, ihre offenen Sitzungen enden sofort. Ein deaktiviertes Konto lässt sich hier nicht wieder einschalten.',
    confirmDisableButton: 'Ja, Konto deaktivieren',
    disabled: 'Das Konto „{username}“ ist deaktiviert.',
    confirmRemoveBadge: 'Den Dienstausweis von {name} entfernen?',
    confirmRemoveBadgeDetail: 'Mit diesem Ausweis kann dann niemand mehr das Beladen nach dem Vier-Augen-Prinzip bestätigen.',
    confirmRemoveBadgeButton: 'Ja, Dienstausweis entfernen',
    badgeRemoved: 'Der Dienstausweis von {name} ist entfernt.',
    badgeHeading: 'Dienstausweis für {name}',
    badgeNumber: 'Nummer des Dienstausweises',
    badgeHint: 'Halten Sie den Ausweis an den Leser oder tippen Sie die Nummer ein: 4 bis 64 Zeichen. Die Nummer wird nur verschlüsselt gespeichert und nie wieder angezeigt.',
    saveBadge: 'Dienstausweis speichern',
    badgeSaved: 'Der Dienstausweis von {name} ist hinterlegt.',
    createHeading: 'Neues Benutzerkonto',
    usernameHint: '2 bis 63 Zeichen: a–z, 0–9, Punkt, Unterstrich und Bindestrich, zum Beispiel „m.mueller“.',
    displayNameHint: 'Vor- und Nachname, wie er in der Kopfzeile und im Protokoll erscheint.',
    password: 'Erstes Passwort',
    passwordHint: 'Mindestens 12 Zeichen. Teilen Sie es der Person persönlich mit.',
    showPassword: 'Passwort anzeigen',
    create: 'Benutzerkonto anlegen',
    created: 'Das Benutzerkonto „{username}“ ist angelegt.',
    'missing.username': 'Bitte geben Sie einen Benutzernamen an.',
    'missing.displayName': 'Bitte geben Sie den Namen der Person an.',
    'missing.role': 'Bitte wählen Sie eine Rolle.',
    'missing.badge': 'Bitte geben Sie die Nummer des Dienstausweises an.',
    empty: 'Es gibt noch keine Benutzerkonten.',
  },
  en: {
    heading: 'User accounts',
    intro: 'Who may log in to pickupbox. A disabled account can no longer log in; its open sessions end at once.',
    username: 'Username',
    displayName: 'Name',
    role: 'Role',
    state: 'Status',
    badge: 'Staff badge',
    actions: 'Actions',
    'role.caseworker': 'Caseworker',
    'role.supervisor': 'Supervisor',
    'role.caseworker.hint': 'Registers applications, loads boxes, hands out at the counter.',
    'role.supervisor.hint': 'May also use the administration: accounts, sites, boxes, SMS texts.',
    active: 'Active',
    disabledSince: 'Disabled since {when}',
    badgeYes: 'Registered',
    badgeNo: 'None',
    you: '(you)',
    setBadge: 'Register staff badge',
    changeBadge: 'Change staff badge',
    removeBadge: 'Remove staff badge',
    disable: 'Disable',
    forUser: ' for {name}',
    ofUser: ' of {name}',
    userName: ' ({name})',
    confirmDisable: 'Disable the account “{username}” ({name})?',
    confirmDisableDetail: 'The person can no longer log in and their open sessions end at once. A disabled account cannot be switched on again here.',
    confirmDisableButton: 'Yes, disable the account',
    disabled: 'The account “{username}” is disabled.',
    confirmRemoveBadge: 'Remove the staff badge of {name}?',
    confirmRemoveBadgeDetail: 'Nobody can then confirm four-eyes loading with this badge.',
    confirmRemoveBadgeButton: 'Yes, remove the staff badge',
    badgeRemoved: 'The staff badge of {name} is removed.',
    badgeHeading: 'Staff badge for {name}',
    badgeNumber: 'Badge number',
    badgeHint: 'Hold the badge to the reader or type the number: 4 to 64 characters. It is stored only as a keyed hash and never shown again.',
    saveBadge: 'Save staff badge',
    badgeSaved: 'The staff badge of {name} is registered.',
    createHeading: 'New user account',
    usernameHint: '2 to 63 characters: a–z, 0–9, dot, underscore and hyphen, for example “m.miller”.',
    displayNameHint: 'Given and family name, as shown in the header and the audit log.',
    password: 'First password',
    passwordHint: 'At least 12 characters. Tell it to the person yourself.',
    showPassword: 'Show password',
    create: 'Create user account',
    created: 'The user account “{username}” is created.',
    'missing.username': 'Please give a username.',
    'missing.displayName': 'Please give the person\'s name.',
    'missing.role': 'Please choose a role.',
    'missing.badge': 'Please give the badge number.',
    empty: 'There are no user accounts yet.',
  },
});

const USERNAME = /^[a-z0-9][a-z0-9._-]{1,62}$/i;

export async function render(ctx, panel) {
  const status = statusArea();
  const action = h('div', { class: 'admin-action', hidden: true });
  const listWrap = h('div', {});
  let users = await api('GET', '/api/v1/users', { signal: ctx.signal });

  async function reload() {
    users = await api('GET', '/api/v1/users', { signal: ctx.signal });
    drawList();
  }

  function drawList() {
    if (!users.length) { replace(listWrap, h('p', {}, t('empty'))); return; }
    replace(listWrap, table(null, [t('username'), t('displayName'), t('role'), t('state'), t('badge'), t('actions')],
      users.map((u) => h('tr', { class: u.disabled ? 'is-disabled' : undefined },
        h('td', {}, h('span', { class: 'mono' }, u.username), u.id === ctx.me.user.id ? [' ', h('span', { class: 'muted' }, t('you'))] : null),
        h('td', {}, u.displayName),
        h('td', {}, t(`role.${u.role}`)),
        h('td', {}, u.disabled ? t('disabledSince', { when: fmtDateTime(u.disabledAt) }) : t('active')),
        h('td', {}, u.hasBadge ? t('badgeYes') : t('badgeNo')),
        h('td', {}, u.disabled ? null : h('div', { class: 'row-actions' },
          h('button', { type: 'button', class: 'button secondary small', on: { click: (e) => badgeForm(u, e.currentTarget) } },
            u.hasBadge ? t('changeBadge') : t('setBadge'), hidden(t('forUser', { name: u.displayName }))),
          u.hasBadge ? h('button', { type: 'button', class: 'button secondary small', on: { click: () => removeBadge(u) } },
            t('removeBadge'), hidden(t('ofUser', { name: u.displayName }))) : null,
          u.id === ctx.me.user.id ? null : h('button', { type: 'button', class: 'button secondary small', on: { click: () => disable(u) } },
            t('disable'), hidden(t('userName', { name: u.username }))),
        )))), 'admin-users'));
  }

  async function disable(user) {
    status.clear();
    const ok = await confirmStep(action, {
      question: t('confirmDisable', { username: user.username, name: user.displayName }),
      detail: t('confirmDisableDetail'),
      confirm: t('confirmDisableButton'),
    });
    if (!ok) return;
    try {
      await api('POST', `/api/v1/users/${user.id}/disable`);
      await reload();
      status.say('success', t('disabled', { username: user.username }));
    } catch (e) {
      if (e.name === 'AbortError') return;
      status.say('error', adminText(e));
    }
  }

  async function removeBadge(user) {
    status.clear();
    const ok = await confirmStep(action, {
      question: t('confirmRemoveBadge', { name: user.displayName }),
      detail: t('confirmRemoveBadgeDetail'),
      confirm: t('confirmRemoveBadgeButton'),
    });
    if (!ok) return;
    try {
      await api('DELETE', `/api/v1/users/${user.id}/badge`);
      await reload();
      status.say('success', t('badgeRemoved', { name: user.displayName }));
    } catch (e) {
      if (e.name === 'AbortError') return;
      status.say('error', adminText(e));
    }
  }

  /** The badge form below the list; closing it returns the focus to `opener`, the button that opened it. */
  function badgeForm(user, opener) {
    status.clear();
    const problems = formProblems({ codes: CODES });
    const badge = field({ label: t('badgeNumber'), name: 'badge', type: 'password', hint: t('badgeHint'), autocomplete: 'off',
      attrs: { autocapitalize: 'none', spellcheck: 'false', maxlength: '64' } });
    const submit = h('button', { type: 'submit', class: 'button' }, t('saveBadge'));
    const close = () => { action.replaceChildren(); action.hidden = true; if (opener?.isConnected) opener.focus(); };
    const form = h('form', { novalidate: true, class: 'admin-subform' },
      h('h3', { tabindex: '-1' }, t('badgeHeading', { name: user.displayName })),
      problems.summary, badge.wrap,
      h('div', { class: 'button-row' }, submit,
        h('button', { type: 'button', class: 'button secondary', on: { click: close } }, t('common.cancel'))));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const value = badge.input.value.trim();
      if (!value) { problems.show([{ message: t('missing.badge'), field: badge }]); return; }
      busy(submit, async () => {
        try {
          await api('PUT', `/api/v1/users/${user.id}/badge`, { body: { badge: value } });
          close();
          await reload();
          status.say('success', t('badgeSaved', { name: user.displayName }));
        } catch (e) {
          if (e.name === 'AbortError') return;
          badge.input.value = '';
          problems.fromApi(e, (name) => (name === 'badge' ? badge : null));
        }
      });
    });
    replace(action, form);
    action.hidden = false;
    badge.input.focus();
  }

  drawList();
  panel.append(
    h('h2', {}, t('heading')),
    h('p', {}, t('intro')),
    status.el,
    listWrap,
    action,
    createForm(ctx, status, reload));
}

function createForm(ctx, status, reload) {
  const problems = formProblems({ codes: CODES });
  const username = field({ label: t('username'), name: 'username', hint: t('usernameHint'), autocomplete: 'off',
    attrs: { autocapitalize: 'none', spellcheck: 'false', maxlength: '63' } });
  const displayName = field({ label: t('displayName'), name: 'displayName', hint: t('displayNameHint'), autocomplete: 'off', attrs: { maxlength: '200' } });
  const role = radios({ legend: t('role'), name: 'role', value: 'caseworker', options: [
    ['caseworker', t('role.caseworker'), t('role.caseworker.hint')],
    ['supervisor', t('role.supervisor'), t('role.supervisor.hint')],
  ] });
  const password = field({ label: t('password'), name: 'password', type: 'password', hint: t('passwordHint'), autocomplete: 'new-password' });
  const show = field({ label: t('showPassword'), name: 'showPassword', type: 'checkbox' });
  show.input.addEventListener('change', () => { password.input.type = show.input.checked ? 'text' : 'password'; });
  const submit = h('button', { type: 'submit', class: 'button' }, t('create'));
  const fields = { username, displayName, role, password };
  const form = h('form', { novalidate: true, class: 'admin-form' },
    h('h2', {}, t('createHeading')),
    problems.summary, username.wrap, displayName.wrap, role.wrap, password.wrap, show.wrap,
    h('div', { class: 'button-row' }, submit));
  // What was typed survives an expired session (never the password).
  const kept = ctx.keepForm(form, 'create-user');

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    status.clear();
    const body = {
      username: username.input.value.trim().toLowerCase(),
      displayName: displayName.input.value.trim(),
      role: role.value(),
      password: password.input.value,
    };
    const list = [];
    if (!body.username) list.push({ message: t('missing.username'), field: username });
    else if (!USERNAME.test(body.username)) list.push({ message: adminText('invalid_username'), field: username });
    if (!body.displayName) list.push({ message: t('missing.displayName'), field: displayName });
    if (!body.role) list.push({ message: t('missing.role'), field: role });
    if ([...body.password].length < 12) list.push({ message: adminText('password_too_short'), field: password });
    if (list.length) { problems.show(list); return; }
    busy(submit, async () => {
      try {
        await api('POST', '/api/v1/users', { body });
        problems.clear();
        kept.clear();
        form.reset();
        password.input.type = 'password';
        role.set('caseworker');
        await reload();
        status.say('success', t('created', { username: body.username }));
        status.el.scrollIntoView({ block: 'nearest' });
      } catch (e) {
        if (e.name === 'AbortError') return;
        problems.fromApi(e, (name) => fields[name] || null);
      }
    });
  });
  return form;
}
