// The server's user accounts (global admins only, in the administration): list, create with a
// first password the admin passes on (the person changes it), and delete after confirming.
// Organisation admins add people by invitation instead (admin.ts); an invitation waits for an
// account with its e-mail address.
import { h, field } from '../dom';
import { all, request, User } from '../api';
import { t } from '../i18n';
import { state } from '../state';
import { table, notice, errorText, loading } from '../ui';

export function usersSection(): HTMLElement {
  const box = h('div', { id: 'server-users' }, loading());
  const draw = async (): Promise<void> => {
    const msg = h('div', { 'aria-live': 'polite', id: 'users-msg' });
    try {
      const users = await all<User & { createdAt?: string }>('/api/v1/users');
      const email = h('input', { type: 'email', required: true, autocomplete: 'off', id: 'user-email' }) as HTMLInputElement;
      const name = h('input', { type: 'text', autocomplete: 'off', id: 'user-name' }) as HTMLInputElement;
      const password = h('input', { type: 'password', required: true, autocomplete: 'new-password', id: 'user-password', minlength: '12' }) as HTMLInputElement;
      const global = h('input', { type: 'checkbox', id: 'user-global' }) as HTMLInputElement;
      const remove = (u: User) => h('button', {
        type: 'button', class: 'danger small', 'data-delete-user': String(u.id), 'aria-label': `${t('admin.delete')} ${u.email}`,
        onclick: async () => {
          if (!confirm(t('users.confirmDelete', { email: u.email }))) return;
          try {
            await request(`/api/v1/users/${u.id}`, { method: 'DELETE' });
            await draw();
            box.prepend(notice(t('users.deleted', { email: u.email }), 'ok'));
          } catch (e) { msg.replaceChildren(notice(errorText(e), 'error')); }
        },
      }, t('admin.delete'));
      box.replaceChildren(msg,
        table(t('users.title'), [t('devices.name'), t('admin.email'), t('users.globalAdmin'), t('admin.actions')],
          users.map((u) => [u.name, u.email, u.globalAdmin ? t('value.true') : t('value.false'),
            u.id === state.session?.user.id ? '' : remove(u)]), 'users'),
        h('form', {
          class: 'inline', id: 'user-form',
          onsubmit: async (e: Event) => {
            e.preventDefault();
            try {
              await request('/api/v1/users', {
                method: 'POST',
                body: { email: email.value.trim(), name: name.value.trim(), password: password.value, globalAdmin: global.checked },
              });
              const who = email.value.trim();
              await draw();
              box.prepend(notice(t('users.created', { email: who }), 'ok'));
            } catch (err) { msg.replaceChildren(notice(errorText(err), 'error')); }
          },
        }, field(t('admin.email'), email), field(t('devices.name'), name),
        field(t('users.password'), password, t('users.passwordHint')),
        h('label', null, global, ' ', t('users.globalAdmin')),
        h('button', { type: 'submit' }, t('users.create'))));
    } catch (e) { box.replaceChildren(notice(errorText(e), 'error')); }
  };
  void draw();
  return box;
}
