import { h } from '../dom';
import { t, tEnum, fmtNum, fmtDate } from '../i18n';
import { orgData, onLive, liveRatePerMinute, state, Status, OrgData } from '../state';
import { RuleForChart } from '../chart';
import { appHealth, orgRules } from '../health';
import { title, section, badge, table, unavailable } from '../ui';

const STATUSES: Status[] = ['ok', 'silent', 'alarm', 'maintenance', 'unknown'];

// Per application: its devices, how many are silent, in alarm and low on battery (health.ts),
// each application's name leading to its comparison.
function healthTiles(od: OrgData, rules: RuleForChart[]): HTMLElement {
  return h('ul', { class: 'app-health', id: 'app-health', 'aria-label': t('overview.health') },
    od.apps.map((a) => {
      const x = appHealth(od.rows.filter((r) => r.d.applicationId === a.id), od.latest, rules);
      const item = (k: keyof typeof x, label: string, bad: boolean) =>
        h('div', { class: bad && x[k] > 0 ? 'bad' : null }, h('dt', null, label), h('dd', { 'data-health': k }, fmtNum(x[k])));
      return h('li', { 'data-app': String(a.id) },
        h('h3', null, h('a', { href: `/compare?app=${a.id}` }, a.name)),
        h('dl', null, item('devices', t('overview.devices'), false), item('silent', t('status.silent'), true),
          item('alarm', t('overview.inAlarm'), true), item('lowBattery', t('overview.lowBattery'), true)));
    }));
}

export async function overviewScreen(root: HTMLElement): Promise<() => void> {
  root.appendChild(title(t('overview.title')));
  const body = h('div', { class: 'overview' });
  root.appendChild(body);
  const draw = async (force: boolean) => {
    const [od, rules] = await Promise.all([orgData(force), orgRules(state.orgId, !force)]);
    const counts = new Map<Status, number>(STATUSES.map((s) => [s, 0]));
    for (const r of od.rows) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    const hourAgo = Date.now() - 3_600_000;
    const rate = liveRatePerMinute();
    let recent = 0;
    for (const l of od.latest.values()) {
      for (const r of Object.values(l.readings)) if (Date.parse(r.ts) >= hourAgo) recent += 1;
    }
    const tiles = h('ul', { class: 'tiles', 'aria-label': t('overview.devices') },
      h('li', { class: 'tile' }, h('span', { class: 'num', id: 'count-total' }, fmtNum(od.rows.length)),
        h('span', null, t('overview.devices'))),
      STATUSES.filter((s) => s !== 'alarm' || od.alarms !== null).map((s) =>
        h('li', { class: `tile st-${s}` }, h('a', { href: `/devices?status=${s}`, class: 'tile-link' },
          h('span', { class: 'num', id: `count-${s}` }, fmtNum(counts.get(s) ?? 0)), badge(s)))),
      h('li', { class: 'tile' }, h('span', { class: 'num' }, fmtNum(recent)), h('span', null, t('overview.recent'))),
      rate === null ? null : h('li', { class: 'tile' }, h('span', { class: 'num', id: 'ingest-rate' }, fmtNum(rate)),
        h('span', null, t('overview.rate'))));
    let alarms: HTMLElement;
    if (od.alarms === null) alarms = unavailable();
    else if (od.alarms.length === 0) alarms = h('p', null, t('overview.noAlarms'));
    else {
      alarms = table(t('overview.latestAlarms'),
        [t('alarms.raised'), t('alarms.device'), t('alarms.severity'), t('alarms.message')],
        od.alarms.slice(0, 10).map((a) => [
          fmtDate(a.raisedAt ?? a.ts),
          // A removed device's alarm has no device name (an unacknowledged one stays open): its id.
          a.deviceId ? h('a', { href: `/devices/${a.deviceId}` }, a.deviceName || `#${a.deviceId}`) : '–',
          tEnum('severity', a.severity), a.message ?? a.ruleName ?? '']));
    }
    body.replaceChildren(tiles, od.apps.length ? section(t('overview.health'), healthTiles(od, rules)) : '',
      section(t('overview.latestAlarms'), alarms));
  };
  await draw(true);
  let pending = 0;
  let reloadAlarms = false;
  const off = onLive((ev) => {
    // An alarm event re-reads the organisation's alarms (counts and list), and so does the
    // stream (re)connecting, which may have missed some.
    if (ev.type === 'alarm' || ev.type === 'open') reloadAlarms = true;
    if (pending) return;
    pending = window.setTimeout(() => {
      pending = 0;
      const force = reloadAlarms;
      reloadAlarms = false;
      void draw(force).catch(() => {});
    }, ev.type === 'reading' ? 2000 : 300);
  });
  // A redraw still pending when the screen is left would read the organisation's data anew
  // under the next screen, for nothing: cancelled with the screen.
  return () => { off(); window.clearTimeout(pending); };
}
