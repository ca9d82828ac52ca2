// Privacy screen (lazy-loaded; issue 18): per application its data class, retention (its own
// settings and what is in force) and record-of-processing texts. Organisation admins edit them;
// other members read them. Admins also export the audit log (CSV / JSON), open the printable
// record of processing, and export the whole organisation (an archive job with progress; the
// archive is downloaded by admins only: src/archive/README.md), mark device metadata keys as
// personal, and erase a data subject (./subject_erasure.ts).
import { h, append } from '../dom';
import { request } from '../api';
import { t, getLang } from '../i18n';
import { state, isAdmin } from '../state';
import { title, section, table, notice, errorText } from '../ui';
import { subjectErasureSection } from './subject_erasure';

type DataClass = 'none' | 'pseudonymous' | 'personal' | 'sensitive';
interface Retention { rawMessagesDays: number | null; readingsDays: number | null; aggregatesDays: number | null }
interface PrivacyApp {
  id: number; name: string; dataClass: DataClass; retention: Retention; effectiveRetention: Retention;
  purpose: string; legalBasis: string; dataCategories: string; recipients: string;
  personalMetadataKeys: string[];
}
const kClasses: DataClass[] = ['none', 'pseudonymous', 'personal', 'sensitive'];
const kKinds: Array<keyof Retention> = ['rawMessagesDays', 'readingsDays', 'aggregatesDays'];
const kTexts = ['purpose', 'legalBasis', 'dataCategories', 'recipients'] as const;

const days = (d: number | null) => (d === null ? t('pv.forever') : t('pv.days', { n: d }));

function appForm(app: PrivacyApp, onSaved: (a: PrivacyApp) => void): HTMLElement {
  const err = h('div', { 'aria-live': 'polite' });
  const cls = h('select', { id: `pv-class-${app.id}` },
    kClasses.map((c) => h('option', { value: c }, t(`pv.class.${c}`)))) as HTMLSelectElement;
  cls.value = app.dataClass;
  const nums = kKinds.map((k) => h('input', {
    type: 'number', min: '1', max: '36500', id: `pv-${k}-${app.id}`,
    value: app.retention[k] === null ? '' : String(app.retention[k]), placeholder: t('pv.default'),
  }) as HTMLInputElement);
  const texts = kTexts.map((k) => h('input', { type: 'text', maxlength: '2000', id: `pv-${k}-${app.id}`,
    value: app[k] }) as HTMLInputElement);
  const personal = h('input', { type: 'text', id: `pv-personal-${app.id}`, placeholder: 'citizenId, adresse',
    value: (app.personalMetadataKeys ?? []).join(', '), title: t('pv.personalKeysHint') }) as HTMLInputElement;
  const label = (id: string, text: string, el: HTMLElement) =>
    h('div', { class: 'field' }, h('label', { for: id }, text), el);
  const save = async (ev: Event) => {
    ev.preventDefault();
    const retention: Record<string, number | null> = {};
    kKinds.forEach((k, i) => { retention[k] = nums[i].value === '' ? null : Number(nums[i].value); });
    const body: Record<string, unknown> = { dataClass: cls.value, retention };
    kTexts.forEach((k, i) => { body[k] = texts[i].value; });
    body.personalMetadataKeys = personal.value.split(',').map((k) => k.trim()).filter((k) => k !== '');
    try {
      onSaved(await request<PrivacyApp>(`/api/v1/applications/${app.id}`, { method: 'PATCH', body }));
    } catch (e) { err.replaceChildren(notice(errorText(e), 'error')); }
  };
  return h('form', { class: 'pv-form', 'data-edit': '', onsubmit: (ev: Event) => void save(ev) },
    label(cls.id, t('pv.dataClass'), cls),
    ...kKinds.map((k, i) => label(nums[i].id, t(`pv.${k}`), nums[i])),
    ...kTexts.map((k, i) => label(texts[i].id, t(`pv.${k}`), texts[i])),
    label(personal.id, `${t('pv.personalKeys')} (${t('pv.personalKeysHint')})`, personal),
    err, h('button', { type: 'submit' }, t('pv.save')));
}

interface Job { id: number; state: string; done: number; total: number; error: string | null }

// The export button: starts POST /organizations/{id}/export, polls its job once a second and
// offers the archive when it is done.
function exportSection(org: number): HTMLElement {
  const status = h('p', { 'aria-live': 'polite', id: 'pv-export-status' });
  const button = h('button', { type: 'button', id: 'pv-export' }, t('pv.export')) as HTMLButtonElement;
  const poll = async (job: number): Promise<void> => {
    const j = await request<Job>(`/api/v1/jobs/${job}`);
    if (j.state === 'done') {
      button.disabled = false;
      status.replaceChildren(t('pv.exportDone'), ' ',
        h('a', { href: `/api/v1/organizations/${org}/exports/${job}/archive`, download: '' }, t('pv.exportDownload')));
    } else if (j.state === 'running' || j.state === 'queued') {
      status.textContent = t('pv.exportRunning', { done: j.done, total: j.total });
      window.setTimeout(() => { void poll(job).catch(fail); }, 1000);
    } else {
      button.disabled = false;
      status.replaceChildren(notice(`${t('pv.exportFailed')}: ${j.error ?? j.state}`, 'error'));
    }
  };
  const fail = (e: unknown) => {
    button.disabled = false;
    status.replaceChildren(notice(errorText(e), 'error'));
  };
  button.addEventListener('click', () => {
    button.disabled = true;
    status.textContent = t('pv.exportRunning', { done: 0, total: 0 });
    request<{ jobId: number }>(`/api/v1/organizations/${org}/export`, { method: 'POST' })
      .then((r) => poll(r.jobId)).catch(fail);
  });
  return section(t('pv.exportTitle'), h('p', { class: 'hint' }, t('pv.exportHint')), button, status);
}

export async function privacyScreen(root: HTMLElement): Promise<void> {
  root.appendChild(title(t('pv.screen')));
  const org = state.orgId;
  const admin = isAdmin();
  const msg = h('div', { 'aria-live': 'polite', id: 'pv-msg' });
  const list = h('div', { id: 'pv-list' });
  const link = (href: string, text: string) => h('a', { href, target: '_blank', rel: 'noopener' }, text);
  const draw = (apps: PrivacyApp[]) => {
    list.replaceChildren(...apps.map((a) => section(a.name,
      table(a.name, [t('pv.field'), t('pv.value')], [
        [t('pv.dataClass'), h('span', { 'data-class': a.dataClass }, t(`pv.class.${a.dataClass}`))],
        ...kKinds.map((k) => [t(`pv.${k}`), `${days(a.effectiveRetention[k])}${a.retention[k] === null ? ` (${t('pv.default')})` : ''}`]),
        ...kTexts.map((k) => [t(`pv.${k}`), a[k] || '–']),
        [t('pv.personalKeys'), (a.personalMetadataKeys ?? []).join(', ') || '–'],
      ]),
      admin ? appForm(a, (saved) => {
        msg.replaceChildren(notice(t('pv.saved', { name: saved.name }), 'ok'));
        void refresh();
      }) : '')));
  };
  const refresh = async () => {
    try {
      draw((await request<{ items: PrivacyApp[] }>(`/api/v1/organizations/${org}/applications?limit=1000`)).items);
    } catch (e) { msg.replaceChildren(notice(errorText(e), 'error')); }
  };
  const audit = `/api/v1/organizations/${org}/audit/export`;
  append(root, [msg,
    admin ? section(t('pv.records'),
      h('p', { class: 'actions' },
        link(`${audit}?format=csv`, t('pv.auditCsv')), ' · ', link(`${audit}?format=json`, t('pv.auditJson')), ' · ',
        link(`/api/v1/organizations/${org}/record-of-processing?format=html&lang=${getLang()}`, t('pv.record'))))
      : h('p', { class: 'hint' }, t('pv.adminOnly')),
    admin ? exportSection(org) : '',
    admin ? subjectErasureSection(org) : '',
    list]);
  await refresh();
}
