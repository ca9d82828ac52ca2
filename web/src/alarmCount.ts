// The number of open alarms where nobody can miss it (issue 21): a badge on "Alarmer" in the
// menu (red when one is critical) and in the tab's title, "(3) Enheder · bysans". Kept current by
// the organisation's live stream (an alarm event re-reads the count, at most once a second).
import { h } from './dom';
import { optional, Page, Alarm } from './api';
import { t } from './i18n';
import { state, onLive } from './state';

let open = 0;
let critical = 0;
let screenTitle = '';
let pending: number | null = null;

// Shows the count on one badge (the menu's, and the phone menu button's).
function show(badge: HTMLElement): void {
  badge.textContent = open > 0 ? String(open) : '';
  badge.hidden = open === 0;
  badge.className = `nav-count${critical > 0 ? ' critical' : ''}`;
  badge.title = t('alarms.openCount', { n: open });
}

function paint(): void {
  document.title = `${open > 0 ? `(${open}) ` : ''}${screenTitle ? `${screenTitle} · ` : ''}bysans`;
  document.querySelectorAll<HTMLElement>('.nav-count').forEach(show);
}

// The screen's own title; the count is put before it.
export function setScreenTitle(title: string): void {
  screenTitle = title;
  paint();
}

// The badge for the menu's alarm link (its text is read with the link: "Alarmer 3").
export function alarmCountBadge(id?: string): HTMLElement {
  const badge = h('span', { class: 'nav-count', id: id ?? null, hidden: true });
  show(badge);
  return badge;
}

export async function refreshAlarmCount(): Promise<void> {
  if (!state.orgId || state.features.get('alarms') === false) return;
  try {
    const page = await optional<Page<Alarm>>(`/api/v1/organizations/${state.orgId}/alarms?state=open&limit=200`);
    if (!page) return;
    open = page.total;
    critical = page.items.filter((a) => a.severity === 'critical').length;
    paint();
  } catch { /* the count stays as it was; the alarm screen shows the error */ }
}

onLive((ev) => {
  if ((ev.type !== 'alarm' && ev.type !== 'open') || pending !== null) return;
  pending = window.setTimeout(() => { pending = null; void refreshAlarmCount(); }, 1000);
});
