// "Erase a data subject" on the privacy screen (issue 18; api/subject_erasure_routes.cc): an
// organisation admin picks the devices (a tag, or a metadata key and value such as a citizen's
// pseudonymous id) and a time range, sees first what a dry run would remove, then confirms; the
// jobs and their reports are listed below (polled while one is queued or running).
import { h } from '../dom';
import { request } from '../api';
import { t } from '../i18n';
import { section, table, notice, errorText } from '../ui';

interface Counts { readings: number; rawMessages: number; downlinks: number; alarms: number; shareRecords: number; contacts: number }
interface DeviceReport extends Counts { id: number; name: string; deviceDeleted: boolean }
interface Report { devices: DeviceReport[]; totals: Counts & { devices: number }; finishedAt?: string }
interface ErasureJob {
  id: number; state: string; requestedBy: string; createdAt: string; error: string | null;
  request: Record<string, unknown>; report: Report | null;
}
const kCounts: Array<keyof Counts> = ['readings', 'rawMessages', 'downlinks', 'alarms', 'shareRecords', 'contacts'];

function reportTable(caption: string, r: Report): HTMLElement {
  return table(caption, [t('se.device'), ...kCounts.map((k) => t(`se.${k}`))], [
    ...r.devices.map((d) => [`${d.name} (#${d.id})`, ...kCounts.map((k) => String(d[k] ?? 0))]),
    [t('se.total', { n: r.totals.devices }), ...kCounts.map((k) => String(r.totals[k] ?? 0))],
  ]);
}

export function subjectErasureSection(org: number): HTMLElement {
  const base = `/api/v1/organizations/${org}/subject-erasures`;
  const field = (id: string, text: string, el: HTMLElement) =>
    h('div', { class: 'field' }, h('label', { for: id }, text), el);
  const kind = h('select', { id: 'se-kind' },
    h('option', { value: 'metadata' }, t('se.byMetadata')), h('option', { value: 'tag' }, t('se.byTag'))) as HTMLSelectElement;
  const key = h('input', { type: 'text', id: 'se-key', placeholder: 'citizenId' }) as HTMLInputElement;
  const value = h('input', { type: 'text', id: 'se-value', required: '' }) as HTMLInputElement;
  const from = h('input', { type: 'datetime-local', id: 'se-from' }) as HTMLInputElement;
  const to = h('input', { type: 'datetime-local', id: 'se-to' }) as HTMLInputElement;
  const del = h('input', { type: 'checkbox', id: 'se-delete' }) as HTMLInputElement;
  const keyField = field(key.id, t('se.key'), key);
  kind.addEventListener('change', () => { keyField.hidden = kind.value === 'tag'; });
  const preview = h('div', { id: 'se-preview', 'aria-live': 'polite' });
  const jobs = h('div', { id: 'se-jobs' });
  const confirm = h('button', { type: 'button', id: 'se-confirm', hidden: '' }, t('se.confirm')) as HTMLButtonElement;
  let pending: Record<string, unknown> | null = null;

  const body = (): Record<string, unknown> => {
    const b: Record<string, unknown> = kind.value === 'tag'
      ? { tag: value.value } : { metadata: { key: key.value, value: value.value } };
    if (from.value) b.from = new Date(from.value).toISOString();
    if (to.value) b.to = new Date(to.value).toISOString();
    if (del.checked) b.deleteDevices = true;
    return b;
  };
  const fail = (e: unknown) => preview.replaceChildren(notice(errorText(e), 'error'));

  const drawJobs = async (): Promise<void> => {
    const list = (await request<{ items: ErasureJob[] }>(base)).items;
    jobs.replaceChildren(...(list.length === 0 ? [h('p', { class: 'hint' }, t('se.noJobs'))] : list.map((j) =>
      h('div', { class: 'se-job', 'data-state': j.state },
        h('h3', null, t('se.job', { id: j.id, state: t(`se.state.${j.state}`) })),
        h('p', { class: 'hint' }, t('se.asked', { who: j.requestedBy, when: j.createdAt })),
        j.error ? notice(j.error, 'error') : '',
        j.report && j.report.devices ? reportTable(t('se.job', { id: j.id, state: j.state }), j.report) : ''))));
    if (list.some((j) => j.state === 'queued' || j.state === 'running'))
      window.setTimeout(() => { void drawJobs().catch(fail); }, 1000);
  };

  const onPreview = async (ev: Event) => {
    ev.preventDefault();
    confirm.hidden = true;
    pending = body();
    try {
      const r = await request<Report>(base, { method: 'POST', body: { ...pending, dryRun: true } });
      preview.replaceChildren(
        r.devices.length === 0 ? notice(t('se.none'), 'warn') : reportTable(t('se.wouldRemove'), r));
      confirm.hidden = r.devices.length === 0;
    } catch (e) { fail(e); }
  };
  confirm.addEventListener('click', () => {
    if (!pending) return;
    confirm.hidden = true;
    request<ErasureJob>(base, { method: 'POST', body: pending })
      .then((j) => {
        preview.replaceChildren(notice(t('se.started', { id: j.id }), 'ok'));
        pending = null;
        return drawJobs();
      }).catch(fail);
  });

  const form = h('form', { id: 'se-form', onsubmit: (ev: Event) => void onPreview(ev) },
    field(kind.id, t('se.selector'), kind), keyField, field(value.id, t('se.value'), value),
    field(from.id, t('se.from'), from), field(to.id, t('se.to'), to),
    h('div', { class: 'field check' }, del, h('label', { for: del.id }, t('se.deleteDevices'))),
    h('button', { type: 'submit', id: 'se-dry-run' }, t('se.dryRun')));
  void drawJobs().catch(fail);
  return section(t('se.title'), h('p', { class: 'hint' }, t('se.hint')), form, preview, confirm,
    h('h3', null, t('se.jobs')), jobs);
}
