// Data targets screen (lazy-loaded; issue 16): per application the targets that forward every
// stored message (HTTP push, MQTT publish) with their delivery status — sent, failed, queue
// depth, lag, last error — refreshed every few seconds. Organisation admins create, change,
// pause, resume, test (the latest message of a chosen device) and delete them; everyone who
// may read the application sees the delivery log and the dead letters, admins replay those.
import { h, append } from '../dom';
import { optional, request, Page } from '../api';
import { t, fmtDate, fmtNum } from '../i18n';
import { state, isAdmin, orgData } from '../state';
import { title, section, table, notice, unavailable, errorText } from '../ui';
import { targetForm, DataTarget } from './targetForm';

interface Delivery { id: number; at: string; ok: boolean; records: number; error: string; durationMs: number }
interface DeadLetter {
  id: number; deviceId: number; messageId: number; receivedAt: string; error: string; attempts: number;
  replaying: boolean;
}
interface TestResult { ok: boolean; httpStatus: number; error: string; durationMs: number }

const REFRESH_MS = 5000;
// Delivery state → the status dot colours of ui.ts's badge.
const DOT: Record<string, string> = { active: 'ok', idle: 'ok', paused: 'maintenance', failing: 'alarm' };

function statusCell(x: DataTarget): HTMLElement {
  const m = x.metrics;
  const s = x.paused ? 'paused' : m?.status ?? 'active';
  const b = x.backfill;
  return h('div', { class: 'tg-status', 'data-status': s },
    h('span', { class: `badge st-${DOT[s] ?? 'unknown'}` }, h('span', { class: 'dot', 'aria-hidden': 'true' }),
      t(`tg.state.${s}`)),
    m?.lastError ? h('div', { class: 'int-error' }, m.lastError) : null,
    b ? h('div', { class: 'hint tg-backfill', 'data-backfill': b.state },
      t(`tg.backfill.${b.state}`, { records: b.records, done: b.devicesDone, total: b.devicesTotal }),
      b.error ? ` — ${b.error}` : '') : null);
}

export async function targetsScreen(root: HTMLElement): Promise<() => void> {
  root.appendChild(title(t('tg.title')));
  const od = await orgData();
  if (!od.apps.length) { root.appendChild(notice(t('tg.noApps'))); return () => {}; }
  const probe = await optional<Page<DataTarget>>(`/api/v1/applications/${od.apps[0].id}/data-targets`);
  if (probe === null) { root.appendChild(unavailable()); return () => {}; }
  const admin = isAdmin();
  const msg = h('div', { 'aria-live': 'polite', id: 'tg-msg' });
  const formBox = h('div', { id: 'tg-form-box' });
  const listBox = h('div', { id: 'tg-list' });
  const detailBox = h('div', { id: 'tg-detail' });
  const appName = (id: number) => od.apps.find((a) => a.id === id)?.name ?? `#${id}`;
  const devName = (id: number) => od.byId.get(id)?.d.name ?? `#${id}`;
  let targets: DataTarget[] = [];
  let last = '';

  const closeForm = () => formBox.replaceChildren();
  const openForm = (item: DataTarget | null) => {
    formBox.replaceChildren(targetForm({
      item, apps: od.apps, rows: od.rows, onCancel: closeForm,
      onSaved: (saved) => {
        closeForm();
        msg.replaceChildren(notice(t(item ? 'tg.saved' : 'tg.created', { name: saved.name }), 'ok'));
        void refresh();
      },
    }));
    formBox.querySelector('input')?.focus();
  };
  const act = async (x: DataTarget, path: string, done: string, method = 'POST') => {
    try {
      await request(`/api/v1/data-targets/${x.id}${path}`, { method });
      msg.replaceChildren(notice(t(done, { name: x.name }), 'ok'));
      await refresh();
    } catch (e) { msg.replaceChildren(notice(errorText(e), 'error')); }
  };
  const remove = async (x: DataTarget) => {
    if (!confirm(t('tg.confirmDelete', { name: x.name }))) return;
    closeForm();
    detailBox.replaceChildren();
    await act(x, '', 'tg.deleted', 'DELETE');
  };

  // The test button: the latest message of the chosen device, sent now, outside the log order.
  const testPanel = (x: DataTarget): HTMLElement => {
    const devices = od.rows.filter((r) => r.d.applicationId === x.applicationId &&
      (!x.deviceIds.length || x.deviceIds.includes(r.d.id)));
    const pick = h('select', { id: `tg-test-device-${x.id}`, 'aria-label': t('tg.testDevice') },
      devices.map((r) => h('option', { value: String(r.d.id) }, r.d.name)));
    const out = h('span', { class: 'tg-test-result', 'aria-live': 'polite' });
    const go = h('button', { type: 'button', class: 'secondary small', 'data-edit': '', disabled: !devices.length,
      onclick: async () => {
        go.disabled = true;
        out.replaceChildren(t('tg.testing'));
        try {
          const r = await request<TestResult>(`/api/v1/data-targets/${x.id}/test`,
            { method: 'POST', body: { deviceId: Number(pick.value) } });
          out.replaceChildren(notice(r.ok ? t('tg.testOk', { status: r.httpStatus, ms: r.durationMs })
            : t('tg.testFailed', { error: r.error || String(r.httpStatus) }), r.ok ? 'ok' : 'error'));
        } catch (e) { out.replaceChildren(notice(errorText(e), 'error')); }
        go.disabled = false;
      } }, t('tg.test'));
    return h('div', { class: 'tg-test' }, pick, go, out, backfillPanel(x));
  };

  // Back-fill: the stored readings since a date are sent first (a job; progress in the status).
  const backfillPanel = (x: DataTarget): HTMLElement => {
    const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const since = h('input', { type: 'date', id: `tg-backfill-from-${x.id}`, value: day, 'aria-label': t('tg.backfillFrom') });
    const go = h('button', { type: 'button', class: 'secondary small', 'data-edit': '',
      disabled: x.backfill?.state === 'running',
      onclick: async () => {
        try {
          await request(`/api/v1/data-targets/${x.id}/backfill`, { method: 'POST', body: { from: `${since.value}T00:00:00Z` } });
          msg.replaceChildren(notice(t('tg.backfillStarted', { name: x.name }), 'ok'));
          await refresh();
        } catch (e) { msg.replaceChildren(notice(errorText(e), 'error')); }
      } }, t('tg.backfill'));
    const cancel = x.backfill?.state === 'running' ? h('button', { type: 'button', class: 'secondary small', 'data-edit': '',
      onclick: async () => {
        try {
          await request(`/api/v1/data-targets/${x.id}/backfill`, { method: 'DELETE' });
          msg.replaceChildren(notice(t('tg.backfillCancelled', { name: x.name }), 'ok'));
          await refresh();
        } catch (e) { msg.replaceChildren(notice(errorText(e), 'error')); }
      } }, t('tg.backfillCancel')) : null;
    return h('div', { class: 'tg-backfill-panel' }, since, go, cancel);
  };

  // Delivery log and dead letters of one target.
  const showDetail = async (x: DataTarget) => {
    try {
      const [log, dead] = await Promise.all([
        request<Page<Delivery>>(`/api/v1/data-targets/${x.id}/deliveries`),
        request<Page<DeadLetter>>(`/api/v1/data-targets/${x.id}/dead-letters`),
      ]);
      const replay = admin && dead.items.length ? h('button', { type: 'button', id: 'tg-replay', 'data-edit': '',
        onclick: async () => { await act(x, '/dead-letters/replay', 'tg.replayed'); await showDetail(x); } },
      t('tg.replay')) : null;
      detailBox.replaceChildren(section(`${t('tg.detail')}: ${x.name}`,
        h('h3', null, t('tg.deliveries')),
        log.items.length ? table(t('tg.deliveries'), [t('tg.at'), t('tg.result'), t('tg.records'), t('tg.duration'), t('tg.error')],
          log.items.map((d) => [fmtDate(d.at), d.ok ? t('tg.ok') : t('tg.failed'), fmtNum(d.records, 0),
            `${fmtNum(d.durationMs, 0)} ms`, d.error || '–']), 'tg-deliveries') : h('p', null, t('tg.noDeliveries')),
        h('h3', null, t('tg.deadLetters')), replay,
        dead.items.length ? table(t('tg.deadLetters'), [t('tg.device'), t('tg.received'), t('tg.attempts'), t('tg.error')],
          dead.items.map((d) => [devName(d.deviceId), fmtDate(d.receivedAt), fmtNum(d.attempts, 0),
            d.replaying ? t('tg.replaying') : d.error]), 'tg-dead-letters') : h('p', null, t('tg.noDeadLetters'))));
      detailBox.querySelector('h2')?.setAttribute('tabindex', '-1');
    } catch (e) { msg.replaceChildren(notice(errorText(e), 'error')); }
  };

  const actions = (x: DataTarget): HTMLElement => h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'secondary small', 'aria-label': `${t('tg.log')}: ${x.name}`,
      onclick: () => void showDetail(x) }, t('tg.log')),
    ...(admin ? [
      h('button', { type: 'button', class: 'secondary small', 'data-edit': '', 'aria-label': `${t('tg.edit')}: ${x.name}`,
        onclick: () => openForm(x) }, t('tg.edit')),
      x.paused
        ? h('button', { type: 'button', class: 'secondary small', 'data-edit': '', 'aria-label': `${t('tg.resume')}: ${x.name}`,
          onclick: () => void act(x, '/resume', 'tg.resumed') }, t('tg.resume'))
        : h('button', { type: 'button', class: 'secondary small', 'data-edit': '', 'aria-label': `${t('tg.pause')}: ${x.name}`,
          onclick: () => void act(x, '/pause', 'tg.pausedMsg') }, t('tg.pause')),
      h('button', { type: 'button', class: 'danger small', 'data-edit': '', 'aria-label': `${t('tg.delete')}: ${x.name}`,
        onclick: () => void remove(x) }, t('tg.delete'))] : []));

  const draw = () => {
    if (!targets.length) { listBox.replaceChildren(h('p', null, t('tg.none'))); return; }
    const heads = [t('form.name'), t('tg.app'), t('tg.destination'), t('tg.status'), t('tg.sent'), t('tg.failedCount'),
      t('tg.queue'), t('tg.lag'), ...(admin ? [t('tg.testCol')] : []), t('tg.actions')];
    listBox.replaceChildren(table(t('tg.title'), heads, targets.map((x) => [
      h('span', { class: 'tg-name', 'data-target': String(x.id) }, x.name),
      appName(x.applicationId),
      h('span', null, t(`tg.type.${x.type}`), ' ', h('code', null, x.url),
        x.type === 'mqtt' ? h('span', null, ' ', h('code', null, x.topic)) : null),
      statusCell(x),
      fmtNum(x.metrics?.sent ?? 0, 0), fmtNum(x.metrics?.failed ?? 0, 0),
      h('span', { class: 'tg-queue' }, fmtNum(x.metrics?.queueDepth ?? 0, 0)),
      `${fmtNum(x.metrics?.lagSeconds ?? 0, 1)} s`,
      ...(admin ? [testPanel(x)] : []),
      actions(x)]), 'targets'));
  };

  // Re-reads every application's targets; the table is redrawn only when something changed,
  // so the periodic refresh does not take the keyboard focus away for nothing.
  const refresh = async () => {
    try {
      const lists = await Promise.all(od.apps.map((a) =>
        request<Page<DataTarget>>(`/api/v1/applications/${a.id}/data-targets`)));
      const all = lists.flatMap((l) => l.items);
      const key = JSON.stringify(all);
      if (key === last) return;
      last = key;
      targets = all;
      draw();
    } catch (e) { msg.replaceChildren(notice(errorText(e), 'error')); }
  };

  append(root, [msg,
    h('p', { class: 'hint' }, t('tg.hint')),
    admin ? h('div', { class: 'actions' }, h('button', { type: 'button', id: 'tg-new', 'data-edit': '',
      onclick: () => openForm(null) }, t('tg.new'))) : h('p', { class: 'hint' }, t('tg.adminOnly')),
    formBox, listBox, detailBox]);
  await refresh();
  const org = state.orgId;
  const timer = window.setInterval(() => {
    if (document.visibilityState === 'visible' && state.orgId === org) void refresh();
  }, REFRESH_MS);
  return () => window.clearInterval(timer);
}
