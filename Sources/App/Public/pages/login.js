// Login: authority (remembered), username, password. Wrong credentials and throttling are shown at
// the top; an expired session says so and returns the user to where they were afterwards.

import { h, field, errorSummary, notice } from '../dom.js';
import { api, ApiError } from '../api.js';
import { makeT, errorText } from '../i18n.js';

export const css = true;

const t = makeT({
  de: {
    title: 'Anmelden',
    intro: 'Melden Sie sich mit den Zugangsdaten Ihrer Behörde an.',
    authority: 'Behörde (Kurzname)',
    authorityHint: 'Zum Beispiel „dortmund“. Wir merken uns den Kurznamen auf diesem Gerät.',
    username: 'Benutzername',
    password: 'Passwort',
    submit: 'Anmelden',
    expired: 'Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an – Ihre Eingaben sind noch da.',
    invalid: 'Behörde, Benutzername oder Passwort stimmen nicht.',
    missing: 'Bitte füllen Sie {field} aus.',
    throttled: 'Zu viele fehlgeschlagene Anmeldungen. Bitte warten Sie {minutes} Minuten.',
  },
  en: {
    title: 'Log in',
    intro: 'Log in with the credentials of your authority.',
    authority: 'Authority (short name)',
    authorityHint: 'For example “dortmund”. We remember the short name on this device.',
    username: 'Username',
    password: 'Password',
    submit: 'Log in',
    expired: 'Your session has expired. Please log in again – what you entered is still there.',
    invalid: 'Authority, username or password is wrong.',
    missing: 'Please fill in {field}.',
    throttled: 'Too many failed logins. Please wait {minutes} minutes.',
  },
});

const AUTHORITY_KEY = 'pickupbox.authority';

export async function render(ctx) {
  ctx.setTitle(t('title'));
  let remembered = '';
  try { remembered = localStorage.getItem(AUTHORITY_KEY) || ''; } catch { /* ignore */ }
  const authority = field({ label: t('authority'), name: 'authority', hint: t('authorityHint'), value: remembered, autocomplete: 'organization', required: true, attrs: { autocapitalize: 'none', spellcheck: 'false' } });
  const username = field({ label: t('username'), name: 'username', autocomplete: 'username', required: true, attrs: { autocapitalize: 'none', spellcheck: 'false' } });
  const password = field({ label: t('password'), name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const summary = h('div', { class: 'error-summary', tabindex: '-1', hidden: true });
  const submit = h('button', { type: 'submit', class: 'button' }, t('submit'));
  const form = h('form', { novalidate: true, class: 'login-form' }, authority.wrap, username.wrap, password.wrap, h('div', { class: 'button-row' }, submit));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const problems = [];
    for (const [f, label] of [[authority, t('authority')], [username, t('username')], [password, t('password')]]) {
      f.setError(null);
      if (!f.input.value.trim()) {
        const message = t('missing', { field: label });
        f.setError(message);
        problems.push({ message, input: f.input });
      }
    }
    if (problems.length) { errorSummary(summary, t('common.errorSummary'), problems); return; }
    submit.disabled = true;
    try {
      const session = await api('POST', '/api/v1/auth/login', {
        body: { authority: authority.input.value.trim().toLowerCase(), username: username.input.value.trim(), password: password.input.value },
      });
      try { localStorage.setItem(AUTHORITY_KEY, authority.input.value.trim().toLowerCase()); } catch { /* ignore */ }
      ctx.signedIn(session);
    } catch (e) {
      password.input.value = '';
      if (e instanceof ApiError && e.code === 'invalid_credentials') {
        // Which of the three is wrong is not said; the password is the one to type again.
        password.setError(t('invalid'));
        errorSummary(summary, t('common.errorSummary'), [{ message: t('invalid'), input: password.input }]);
      } else {
        const minutes = Math.max(1, Math.ceil(((e instanceof ApiError && e.retryAfter) || 60) / 60));
        errorSummary(summary, e instanceof ApiError && e.code === 'rate_limited' ? t('throttled', { minutes }) : errorText(e));
      }
    } finally {
      submit.disabled = false;
    }
  });

  ctx.main.append(
    h('div', { class: 'login' },
      h('h1', {}, t('title')),
      ctx.query.get('expired') ? notice('warning', h('p', {}, t('expired'))) : null,
      h('p', {}, t('intro')),
      summary,
      form));
  (remembered ? username : authority).input.focus();
}
