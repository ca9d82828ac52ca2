// The create / edit form of an Open Data DK dataset (src/api/open_data.cc): what is published
// (an application, or some of the organisation's devices, optionally only some keys) and the
// DCAT-AP-DK metadata harvesters read (title, description, EU themes, keywords, licence, update
// frequency, contact, documentation, area). An application holding personal data cannot be
// chosen (the API refuses it too). A 400 answer is shown in a role=alert box in the form.
import { h, field, uid } from '../dom';
import { request, Application } from '../api';
import { t } from '../i18n';
import { notice, errorText, requireFilled } from '../ui';
import type { DeviceRow } from '../state';

export interface Dataset {
  id: number; orgId: number; applicationId: number | null; deviceIds: number[]; keys: string[];
  published: boolean; title: string; description: string; keywords: string[]; themes: string[];
  license: string; accrualPeriodicity: string; contactName: string; contactEmail: string;
  documentationUrl: string; spatial: string; issuedAt?: string | null; updatedAt?: string;
  urls: { latest: string; historyCsv: string; historyJson: string };
}
export type AppWithFlag = Application & { personalData?: boolean };

export interface DatasetFormOptions {
  item: Dataset | null; orgId: number; apps: AppWithFlag[]; rows: DeviceRow[];
  onSaved: (saved: Dataset) => void; onCancel: () => void;
}

// The EU data themes (publications office vocabulary) Open Data DK harvests.
export const THEMES = ['ENVI', 'TRAN', 'ENER', 'HEAL', 'EDUC', 'REGI', 'SOCI', 'GOVE', 'TECH', 'ECON',
  'AGRI', 'INTR', 'JUST', 'OP_DATPRO'];
const LICENSES: Array<[string, string]> = [
  ['https://creativecommons.org/licenses/by/4.0/', 'CC BY 4.0'],
  ['https://creativecommons.org/publicdomain/zero/1.0/', 'CC0 1.0'],
];
const PERIODS = ['irregular', 'R/PT10M', 'R/PT1H', 'R/P1D', 'R/P1W', 'R/P1M'];

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

export function datasetForm(o: DatasetFormOptions): HTMLElement {
  const { item } = o;
  const text = (id: string, value: string, extra: Record<string, unknown> = {}) =>
    h('input', { type: 'text', id, autocomplete: 'off', value, ...extra });
  const title = text('od-title', item?.title ?? '', { required: true });
  const description = h('textarea', { id: 'od-description', rows: '3' });
  description.value = item?.description ?? '';
  const byApp = h('input', { type: 'radio', name: 'od-source', id: 'od-by-app', checked: !item || item.applicationId !== null });
  const byDevices = h('input', { type: 'radio', name: 'od-source', id: 'od-by-devices', checked: Boolean(item && item.applicationId === null) });
  const app = h('select', { id: 'od-app' }, o.apps.map((a) => h('option', { value: String(a.id), disabled: Boolean(a.personalData) },
    a.personalData ? `${a.name} (${t('od.personalData')})` : a.name)));
  const firstOpen = o.apps.find((a) => !a.personalData);
  app.value = String(item?.applicationId ?? firstOpen?.id ?? '');
  const open = new Set(o.apps.filter((a) => !a.personalData).map((a) => a.id));
  const chosen = new Set(item?.deviceIds ?? []);
  const devices = h('fieldset', { id: 'od-devices', class: 'device-pick' }, h('legend', null, t('od.devices')),
    ...o.rows.filter((r) => open.has(r.d.applicationId)).map((r) => {
      const id = `od-dev-${r.d.id}`;
      return h('div', { class: 'field check' },
        h('input', { type: 'checkbox', id, value: String(r.d.id), checked: chosen.has(r.d.id) }),
        h('label', { for: id }, `${r.d.name} (${r.appName})`));
    }));
  const showSource = () => { app.disabled = !byApp.checked; devices.hidden = !byDevices.checked; };
  byApp.addEventListener('change', showSource);
  byDevices.addEventListener('change', showSource);
  showSource();
  const keys = text('od-keys', (item?.keys ?? []).join(', '), { placeholder: 'co2, temperature' });
  const themes = h('fieldset', { id: 'od-themes', class: 'themes' }, h('legend', null, t('od.themes')),
    ...THEMES.map((code) => {
      const id = `od-theme-${code}`;
      return h('div', { class: 'field check' },
        h('input', { type: 'checkbox', id, value: code, checked: (item?.themes ?? ['ENVI']).includes(code) }),
        h('label', { for: id }, t(`od.theme.${code}`)));
    }));
  const keywords = text('od-keywords', (item?.keywords ?? []).join(', '), { placeholder: 'luftkvalitet, CO2' });
  const license = h('input', { type: 'url', id: 'od-license', list: 'od-licenses', value: item?.license ?? LICENSES[0][0] });
  const licenses = h('datalist', { id: 'od-licenses' }, LICENSES.map(([v, label]) => h('option', { value: v }, label)));
  const period = h('select', { id: 'od-period' }, PERIODS.map((p) => h('option', { value: p }, t(`od.period.${p}`))));
  period.value = item && PERIODS.includes(item.accrualPeriodicity) ? item.accrualPeriodicity : 'irregular';
  const contactName = text('od-contact-name', item?.contactName ?? '', { required: true });
  const contactEmail = h('input', { type: 'email', id: 'od-contact-email', value: item?.contactEmail ?? '', required: true });
  const docs = h('input', { type: 'url', id: 'od-docs', value: item?.documentationUrl ?? '' });
  const spatial = text('od-spatial', item?.spatial ?? '', { placeholder: 'Skive Kommune' });
  const published = h('input', { type: 'checkbox', id: 'od-published', checked: item?.published ?? false });

  const errBox = h('div', { id: 'od-form-error', class: 'form-error' });
  const body = (): Record<string, unknown> => ({
    title: title.value.trim(), description: description.value.trim(),
    applicationId: byApp.checked ? Number(app.value) : null,
    deviceIds: byApp.checked ? null : [...devices.querySelectorAll<HTMLInputElement>('input:checked')].map((c) => Number(c.value)),
    keys: list(keys.value), keywords: list(keywords.value),
    themes: [...themes.querySelectorAll<HTMLInputElement>('input:checked')].map((c) => c.value),
    license: license.value.trim(), accrualPeriodicity: period.value, contactName: contactName.value.trim(),
    contactEmail: contactEmail.value.trim(), documentationUrl: docs.value.trim(), spatial: spatial.value.trim(),
    published: published.checked,
  });
  const titleId = uid('od-form-title');
  const save = h('button', { type: 'submit', id: 'od-save' }, t('form.save'));
  return h('form', {
    id: 'dataset-form', class: 'card', 'aria-labelledby': titleId, 'aria-describedby': errBox.id,
    novalidate: true, 'data-edit': '',
    onsubmit: async (ev: Event) => {
      ev.preventDefault();
      errBox.replaceChildren();
      const required = [title, license, contactName, contactEmail];
      if (!requireFilled(required, errBox, t('od.required'))) return;
      save.disabled = true;
      try {
        const path = item ? `/api/v1/open-data/datasets/${item.id}` : `/api/v1/organizations/${o.orgId}/open-data/datasets`;
        o.onSaved(await request<Dataset>(path, { method: item ? 'PUT' : 'POST', body: body() }));
      } catch (e) {
        errBox.replaceChildren(notice(errorText(e), 'error'));
      } finally { save.disabled = false; }
    },
  },
  h('h3', { id: titleId }, item ? `${t('od.editTitle')}: ${item.title}` : t('od.newTitle')),
  field(t('od.title'), title), field(t('od.description'), description),
  h('fieldset', null, h('legend', null, t('od.source')),
    h('div', { class: 'field check' }, byApp, h('label', { for: 'od-by-app' }, t('od.byApp'))), field(t('od.app'), app),
    h('div', { class: 'field check' }, byDevices, h('label', { for: 'od-by-devices' }, t('od.byDevices'))), devices),
  field(t('od.keys'), keys, t('od.keysHint')),
  themes,
  h('div', { class: 'row' }, field(t('od.keywords'), keywords, t('od.keywordsHint')),
    field(t('od.license'), license, t('od.licenseHint')), licenses, field(t('od.period'), period)),
  h('div', { class: 'row' }, field(t('od.contactName'), contactName), field(t('od.contactEmail'), contactEmail)),
  h('div', { class: 'row' }, field(t('od.docs'), docs), field(t('od.spatial'), spatial)),
  h('div', { class: 'field check' }, published, h('label', { for: 'od-published' }, t('od.published'))),
  errBox,
  h('div', { class: 'actions' }, save,
    h('button', { type: 'button', class: 'secondary', onclick: o.onCancel }, t('form.cancel'))));
}
