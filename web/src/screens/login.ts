import { h, field } from '../dom';
import { api, ApiError } from '../api';
import { t } from '../i18n';
import { state } from '../state';
import { notice, errorText } from '../ui';

let pendingMessage: string | null = null;
export function setLoginMessage(m: string): void { pendingMessage = m; }

export function loginScreen(root: HTMLElement, extra: { lang: HTMLElement }, done: () => Promise<void>): void {
  document.title = `${t('login.title')} · bysans`;
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const msg = h('div', { class: 'msg', 'aria-live': 'polite' });
  if (pendingMessage) { msg.appendChild(notice(pendingMessage, 'info')); pendingMessage = null; }
  const submit = h('button', { type: 'submit' }, t('login.submit'));
  const form = h('form', {
    class: 'login card', 'aria-labelledby': 'login-title',
    onsubmit: async (e: Event) => {
      e.preventDefault();
      submit.disabled = true;
      msg.replaceChildren();
      try {
        state.session = await api.login(email.value.trim(), password.value);
        await done();
      } catch (err) {
        const text = err instanceof ApiError && (err.status === 401 || err.status === 403 || err.status === 400)
          ? t('login.failed') : errorText(err);
        msg.appendChild(notice(text, 'error'));
        submit.disabled = false;
        password.focus();
      }
    },
  },
  h('h1', { id: 'login-title' }, h('span', { class: 'brand' }, 'bysans'), ' · ', t('login.title')),
  msg,
  field(t('login.email'), email),
  field(t('login.password'), password),
  submit,
  h('div', { class: 'login-lang' }, extra.lang));
  root.appendChild(form);
  email.focus();
}
