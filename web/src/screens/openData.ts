// Open data screen (lazy-loaded; issue 16): the organisation's Open Data DK datasets — what
// each publishes, whether it is public, and the links harvesters and citizens use (the DCAT
// catalogue, latest values, history as CSV and JSON). Organisation admins create, change,
// publish or withdraw and delete datasets; other members read them.
import { h, append } from '../dom';
import { optional, request } from '../api';
import { t, fmtDate } from '../i18n';
import { state, isAdmin, orgData } from '../state';
import { title, section, table, notice, unavailable, errorText } from '../ui';
import { datasetForm, Dataset, AppWithFlag } from './openDataForm';

type Items<T> = { items: T[] };

export async function openDataScreen(root: HTMLElement): Promise<void> {
  root.appendChild(title(t('od.screen')));
  const org = state.orgId;
  const first = await optional<Items<Dataset>>(`/api/v1/organizations/${org}/open-data/datasets`);
  if (first === null) { root.appendChild(unavailable()); return; }
  const od = await orgData();
  const apps = od.apps as AppWithFlag[];
  const admin = isAdmin();
  const msg = h('div', { 'aria-live': 'polite', id: 'od-msg' });
  const formBox = h('div', { id: 'od-form-box' });
  const listBox = h('div', { id: 'od-list' });
  const catalogue = `/api/v1/open-data-dk-sharing/${org}`;
  const appName = (id: number) => apps.find((a) => a.id === id)?.name ?? `#${id}`;

  const source = (d: Dataset) => (d.applicationId !== null ? appName(d.applicationId)
    : t('od.nDevices', { n: d.deviceIds.length }));
  const link = (href: string, label: string) => h('a', { href, target: '_blank', rel: 'noopener' }, label);
  const draw = (items: Dataset[]) => {
    listBox.replaceChildren(items.length ? table(t('od.screen'),
      [t('od.title'), t('od.source'), t('od.keys'), t('od.themes'), t('od.status'), t('od.links'),
        ...(admin ? [t('od.actions')] : [])],
      items.map((d) => [
        h('span', { class: 'od-name', 'data-dataset': String(d.id) }, d.title),
        source(d), d.keys.length ? d.keys.join(', ') : t('od.allKeys'), d.themes.join(', '),
        h('span', { class: `badge st-${d.published ? 'ok' : 'maintenance'}`, 'data-published': String(d.published) },
          h('span', { class: 'dot', 'aria-hidden': 'true' }),
          d.published ? t('od.public', { when: fmtDate(d.issuedAt ?? d.updatedAt ?? '') }) : t('od.draft')),
        d.published ? h('span', { class: 'od-links' }, link(d.urls.latest, t('od.latest')), ' · ',
          link(d.urls.historyCsv, 'CSV'), ' · ', link(d.urls.historyJson, 'JSON')) : '–',
        ...(admin ? [h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'secondary small', 'data-edit': '', 'aria-label': `${t('od.edit')}: ${d.title}`,
            onclick: () => openForm(d) }, t('od.edit')),
          h('button', { type: 'button', class: 'danger small', 'data-edit': '', 'aria-label': `${t('od.delete')}: ${d.title}`,
            onclick: () => void remove(d) }, t('od.delete')))] : [])]), 'datasets') : h('p', null, t('od.none')));
  };
  const refresh = async () => {
    try {
      draw((await request<Items<Dataset>>(`/api/v1/organizations/${org}/open-data/datasets`)).items);
    } catch (e) { msg.replaceChildren(notice(errorText(e), 'error')); }
  };
  const closeForm = () => formBox.replaceChildren();
  const openForm = (item: Dataset | null) => {
    formBox.replaceChildren(datasetForm({
      item, orgId: org, apps, rows: od.rows, onCancel: closeForm,
      onSaved: (saved) => {
        closeForm();
        msg.replaceChildren(notice(t(item ? 'od.saved' : 'od.created', { name: saved.title }), 'ok'));
        void refresh();
      },
    }));
    formBox.querySelector('input')?.focus();
  };
  const remove = async (d: Dataset) => {
    if (!confirm(t('od.confirmDelete', { name: d.title }))) return;
    try {
      await request(`/api/v1/open-data/datasets/${d.id}`, { method: 'DELETE' });
      closeForm();
      msg.replaceChildren(notice(t('od.deleted', { name: d.title }), 'ok'));
      await refresh();
    } catch (e) { msg.replaceChildren(notice(errorText(e), 'error')); }
  };

  append(root, [msg,
    section(t('od.catalogue'), h('p', { class: 'hint' }, t('od.hint')),
      h('p', null, link(catalogue, `${location.origin}${catalogue}`))),
    admin ? h('div', { class: 'actions' }, h('button', { type: 'button', id: 'od-new', 'data-edit': '',
      onclick: () => openForm(null) }, t('od.new'))) : h('p', { class: 'hint' }, t('od.adminOnly')),
    formBox, listBox]);
  draw(first.items);
}
