// Keeps a shown dashboard live (issue 21 §4): a reading on the organisation's live stream for a
// device that a latest-value tile, a gauge or a table shows redraws that widget (from the latest
// values state.ts keeps up to date), and an alarm event re-reads the open alarms for the alarm
// lists. Redraws are gathered for a quarter of a second, so a burst of readings costs one draw.
// Time series are not redrawn: they show bucket averages of their whole period.
import { api, Widget } from '../api';
import { onLive, state, OrgData } from '../state';
import type { RuleForChart } from '../chart';
import { Drawn, drawWidget } from './dashboardWidgets';

const GATHER_MS = 250;

function devicesOf(w: Widget): number[] {
  switch (w.type) {
    case 'latest': case 'gauge': return [w.deviceId];
    case 'table': return w.deviceIds;
    default: return [];
  }
}

// Follows the stream until the returned function is called (when the screen is left).
export function followLive(widgets: Widget[], drawn: Drawn[], od: OrgData, rules: RuleForChart[]): () => void {
  const pending = new Set<number>();
  let timer = 0;
  let alarmsDue = false;
  let stopped = false;
  // data-live counts the redraws (browser tests).
  const redraw = (i: number) => {
    const next = drawWidget(widgets[i], i, od, rules);
    next.el.dataset.live = String(Number(drawn[i].el.dataset.live ?? 0) + 1);
    drawn[i].el.replaceWith(next.el);
    drawn[i].destroy();
    drawn[i] = next;
  };
  const flush = async () => {
    if (alarmsDue) {
      alarmsDue = false;
      const open = await api.alarms(state.orgId, 'open').catch(() => null);
      if (stopped) return;
      if (open) od.alarms = open.items;
      widgets.forEach((w, i) => { if (w.type === 'alarms') pending.add(i); });
    }
    timer = 0;
    for (const i of pending) redraw(i);
    pending.clear();
  };
  const schedule = () => { if (!timer) timer = window.setTimeout(() => void flush(), GATHER_MS); };
  const off = onLive((ev) => {
    if (ev.type === 'reading') {
      const id = (ev.data as { deviceId?: number }).deviceId;
      if (!id) return;
      widgets.forEach((w, i) => { if (devicesOf(w).includes(id)) pending.add(i); });
      if (pending.size) schedule();
    } else if ((ev.type === 'alarm' || ev.type === 'open') && widgets.some((w) => w.type === 'alarms')) {
      alarmsDue = true;
      schedule();
    }
  });
  return () => { stopped = true; off(); window.clearTimeout(timer); };
}
