// Responsible contacts (issue 20; api/contacts.cc): read-only tables on the device page (the
// device's effective list: its own and its application's) and in the administration's
// applications. Contacts are personal data: the server audits every read.
import { h } from './dom';
import { request } from './api';
import { t } from './i18n';
import { table, notice, errorText, loading } from './ui';

export interface Contact {
  name: string;
  email: string;
  phone: string;
  role: string;
  source?: 'device' | 'application';
  sourceId?: number;
}

// The contacts at `path` (…/contacts, or a device's …/contacts/effective with their source).
export function contactsPanel(path: string, caption: string): HTMLElement {
  const box = h('div', { 'data-contacts': path }, loading());
  request<{ items: Contact[] }>(path).then((r) => {
    const withSource = r.items.some((c) => c.source);
    const heads = [t('contacts.name'), t('contacts.role'), t('contacts.phone'), t('contacts.email')];
    box.replaceChildren(r.items.length
      ? table(caption, withSource ? [...heads, t('contacts.source')] : heads,
        r.items.map((c) => {
          const row = [c.name, c.role, c.phone, c.email];
          return withSource ? [...row, t(`contacts.from.${c.source ?? 'device'}`)] : row;
        }))
      : h('p', null, t('contacts.none')));
  }).catch((e) => box.replaceChildren(notice(errorText(e), 'error')));
  return box;
}
