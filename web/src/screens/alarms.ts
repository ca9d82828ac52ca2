// Alarms screen (lazy-loaded): open alarms with acknowledge / clear, the
// history, silences ("silence until" a device or a rule) and live updates:
// alarm events on the organisation's stream refresh the lists without reload.
import { h, field, append } from '../dom';
import { optional, request, Page, Alarm } from '../api';
import { t, tEnum, fmtDate } from '../i18n';
import { state, canHandleAlarms, orgData, onLive } from '../state';
import { title, section, table, notice, unavailable, errorText } from '../ui';
import { criticalAlertsSwitch } from '../alarmAlert';

interface Silence { id: number; deviceId: number | null; ruleId: number | null; until: string; createdBy: string; createdAt: string }
interface RuleRef { id: number; name: string }

const SEVERITY_RANK: Record<string, number> = { critical: 0, warning: 1, info: 2 };
const LIVE_LINES = 5;  // alarm events kept in the screen reader's log
const SEVERITY_ICON: Record<string, string> = { critical: '⬣', warning: '▲', info: 'ℹ' };

// Critical first, then warning, then info; newest first within each.
export function bySeverity(alarms: Alarm[]): Alarm[] {
  const rank = (a: Alarm) => SEVERITY_RANK[a.severity ?? ''] ?? 3;
  const time = (a: Alarm) => Date.parse(a.raisedAt ?? a.ts ?? '') || 0;
  return [...alarms].sort((a, b) => rank(a) - rank(b) || time(b) - time(a));
}

// The severity in colour, with a shape that tells it apart without colour.
function severityBadge(s: string | undefined): HTMLElement | string {
  if (!s) return '';
  return h('span', { class: `sev sev-${s}`, 'data-severity': s },
    h('span', { 'aria-hidden': 'true' }, SEVERITY_ICON[s] ?? '•'), tEnum('severity', s));
}

// Who acknowledged and who cleared the alarm, when, with their comments.
function handledBy(a: Alarm): HTMLElement | string {
  const parts: string[] = [];
  if (a.acknowledgedAt) {
    parts.push(t('alarms.ackedBy', { by: a.acknowledgedBy || '–', at: fmtDate(a.acknowledgedAt) }) +
      (a.acknowledgeComment ? ` – “${a.acknowledgeComment}”` : ''));
  }
  if (a.clearedAt) {
    parts.push(a.clearedBy ? t('alarms.clearedBy', { by: a.clearedBy, at: fmtDate(a.clearedAt) })
      + (a.clearComment ? ` – “${a.clearComment}”` : '')
      : t('alarms.clearedAuto', { at: fmtDate(a.clearedAt) }));
  }
  return parts.length ? h('span', { class: 'alarm-handled' }, parts.join('; ')) : '–';
}

// Acknowledged or not (older servers: only the state says so).
const acknowledged = (a: Alarm): boolean => a.acknowledged ?? (a.state === 'acknowledged' || Boolean(a.acknowledgedAt));

// The state in words: active, acknowledged, cleared, or "cleared, not acknowledged".
function stateText(a: Alarm): HTMLElement | string {
  if (a.state === 'cleared' && !acknowledged(a)) {
    return h('span', {
      class: a.awaitingAcknowledge ? 'alarm-awaiting' : null, 'data-state': 'cleared_unacknowledged',
      title: a.awaitingAcknowledge ? t('alarms.awaitingHint') : null,
    }, tEnum('alarmState', 'cleared_unacknowledged'));
  }
  return tEnum('alarmState', a.state);
}

// A datetime-local value (local time, minutes) for a Date.
function localInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export async function alarmsScreen(root: HTMLElement): Promise<() => void> {
  root.appendChild(title(t('alarms.title')));
  const org = state.orgId;
  const first = state.features.get('alarms') === false ? null
    : await optional<Page<Alarm>>(`/api/v1/organizations/${org}/alarms?state=open&limit=200`);
  if (first === null) { state.features.set('alarms', false); root.appendChild(unavailable()); return () => {}; }
  state.features.set('alarms', true);
  // Operators, editors and admins handle alarms (acknowledge, comment, clear, silence).
  const editor = canHandleAlarms();
  const msg = h('div', { 'aria-live': 'polite', id: 'alarms-msg' });
  // The last few alarm events, each its own line: several events in one stream chunk are all
  // announced (a polite live region reads the lines added), none overwrites another.
  const live = h('div', { class: 'sr-only', role: 'log', 'aria-live': 'polite', id: 'alarms-live' });
  const announce = (text: string) => {
    live.appendChild(h('p', null, text));
    while (live.childElementCount > LIVE_LINES) live.firstElementChild?.remove();
  };
  const activeBox = h('div', { id: 'alarms-active' });
  const historyBox = h('div', { id: 'alarms-history' });
  const silenceBox = h('div', { id: 'silences' });
  const [od, rules] = await Promise.all([
    orgData(),
    optional<Page<RuleRef>>(`/api/v1/organizations/${org}/rules?limit=500`).then((p) => p?.items ?? []),
  ]);
  const devName = (id: number | null | undefined) => (id ? od.byId.get(id)?.d.name ?? `#${id}` : '–');
  const ruleName = (id: number | null | undefined) => (id ? rules.find((r) => r.id === id)?.name ?? `#${id}` : '–');

  const act = async (a: Alarm, what: string, body: unknown) => {
    try {
      await request(`/api/v1/alarms/${a.id}/${what}`, { method: 'POST', body });
      state.data = null;
      await refresh();
      msg.replaceChildren(notice(t(what === 'clear' ? 'alarms.cleared' : 'alarms.acked'), 'ok'));
    } catch (e) { msg.replaceChildren(notice(errorText(e), 'error')); }
  };
  const cells = (a: Alarm): Array<Node | string> => [fmtDate(a.raisedAt ?? a.ts),
    a.gatewayId ? h('a', { class: 'alarm-gateway', href: `/gateways/${encodeURIComponent(a.gatewayId)}` },
      `${t('alarms.gateway')} ${a.gatewayId}`)
      : a.deviceId ? h('a', { href: `/devices/${a.deviceId}` }, a.deviceName || devName(a.deviceId)) : '–',
    severityBadge(a.severity), a.message || a.ruleName || '', stateText(a), handledBy(a)];
  const heads = [t('alarms.raised'), t('alarms.device'), t('alarms.severity'), t('alarms.message'), t('devices.status'),
    t('alarms.handled')];
  const drawActive = (unsorted: Alarm[]) => {
    const items = bySeverity(unsorted);
    activeBox.dataset.count = String(items.length);
    activeBox.replaceChildren(items.length ? table(t('alarms.active'), editor ? [...heads, t('alarms.actions')] : heads,
      items.map((a) => {
        const row = cells(a);
        if (!editor) return row;
        const quiet = a.deviceId ? h('button', {
          type: 'button', class: 'secondary small', 'data-edit': '',
          'aria-label': `${t('silences.deviceShort')}: ${a.deviceName || devName(a.deviceId)}`,
          onclick: () => prefillSilence?.(a.deviceId ?? 0),
        }, t('silences.deviceShort')) : null;
        if (acknowledged(a) && a.state !== 'cleared') {
          row.push(h('div', { class: 'actions' }, h('button', {
            type: 'button', class: 'secondary small', 'data-edit': '',
            'aria-label': `${t('alarms.clear')}: ${a.deviceName ?? a.id}`, onclick: () => void act(a, 'clear', {}),
          }, t('alarms.clear')), quiet));
        } else {
          const comment = h('input', { type: 'text', 'aria-label': `${t('alarms.comment')} (${a.deviceName ?? a.id})` });
          row.push(h('form', {
            class: 'inline', 'data-edit': '', 'data-alarm': String(a.id),
            onsubmit: (e: Event) => { e.preventDefault(); void act(a, 'acknowledge', { comment: comment.value }); },
          }, comment, h('button', { type: 'submit', class: 'small' }, t('alarms.ack')), quiet));
        }
        return row;
      }), 'alarms-active cards') : h('p', null, t('alarms.none')));
  };
  const refresh = async () => {
    const [active, history] = await Promise.all([
      request<Page<Alarm>>(`/api/v1/organizations/${org}/alarms?state=open&limit=200`),
      request<Page<Alarm>>(`/api/v1/organizations/${org}/alarms?state=history&limit=200`),
    ]);
    drawActive(active.items);
    historyBox.replaceChildren(history.items.length
      ? table(t('alarms.history'), heads, history.items.map(cells)) : h('p', null, t('alarms.none')));
  };

  // Editors lift a silence before its end: the rules runtime stops honouring it at once.
  const removeSilence = async (x: Silence, name: string) => {
    try {
      await request(`/api/v1/silences/${x.id}`, { method: 'DELETE' });
      msg.replaceChildren(notice(t('silences.removed', { name }), 'ok'));
      await drawSilences();
    } catch (e) { msg.replaceChildren(notice(errorText(e), 'error')); }
  };
  // Silences: who is silenced until when; editors add one for a device or a rule.
  const drawSilences = async () => {
    try {
      const s = await request<{ items: Silence[] }>(`/api/v1/organizations/${org}/silences`);
      const heads = [t('silences.target'), t('silences.until'), t('silences.by')];
      silenceBox.replaceChildren(s.items.length ? table(t('silences.title'),
        editor ? [...heads, t('silences.actions')] : heads,
        s.items.map((x) => {
          const name = x.deviceId ? `${t('silences.device')}: ${devName(x.deviceId)}` : `${t('silences.rule')}: ${ruleName(x.ruleId)}`;
          const row: Array<Node | string> = [name, fmtDate(x.until), x.createdBy || '–'];
          if (editor) {
            row.push(h('button', {
              type: 'button', class: 'secondary small', 'data-edit': '', 'data-silence': String(x.id),
              'aria-label': `${t('silences.remove')}: ${name}`, onclick: () => void removeSilence(x, name),
            }, t('silences.remove')));
          }
          return row;
        }), 'silences') : h('p', null, t('silences.none')));
    } catch (e) { silenceBox.replaceChildren(notice(errorText(e), 'error')); }
  };
  let silenceForm: HTMLElement | null = null;
  let prefillSilence: ((deviceId: number) => void) | null = null;
  if (editor) {
    const kind = h('select', { id: 'silence-kind' },
      h('option', { value: 'device' }, t('silences.device')), h('option', { value: 'rule' }, t('silences.rule')));
    const target = h('select', { id: 'silence-target' });
    const fill = () => {
      const opts: Array<[number, string]> = kind.value === 'device'
        ? od.rows.map((r) => [r.d.id, r.d.name]) : rules.map((r) => [r.id, r.name]);
      target.replaceChildren(...opts.map(([id, n]) => h('option', { value: String(id) }, n)));
    };
    kind.addEventListener('change', fill);
    fill();
    const until = h('input', {
      type: 'datetime-local', id: 'silence-until', required: true,
      value: localInput(new Date(Date.now() + 4 * 3_600_000)), min: localInput(new Date()),
    });
    const formMsg = h('div', { 'aria-live': 'polite', id: 'silence-msg' });
    prefillSilence = (deviceId: number) => {
      kind.value = 'device';
      fill();
      target.value = String(deviceId);
      until.scrollIntoView({ block: 'center' });
      until.focus();
    };
    silenceForm = h('form', {
      class: 'inline', id: 'silence-form', 'data-edit': '', novalidate: true,
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const when = new Date(until.value);
        if (!until.value || Number.isNaN(when.getTime()) || when.getTime() <= Date.now()) {
          until.setAttribute('aria-invalid', 'true');
          formMsg.replaceChildren(notice(t('silences.future'), 'error'));
          until.focus();
          return;
        }
        until.removeAttribute('aria-invalid');
        const body: Record<string, unknown> = { until: when.toISOString() };
        body[kind.value === 'device' ? 'deviceId' : 'ruleId'] = Number(target.value);
        try {
          await request(`/api/v1/organizations/${org}/silences`, { method: 'POST', body });
          formMsg.replaceChildren(notice(t('silences.added', { name: target.selectedOptions[0]?.text ?? '', until: fmtDate(when) }), 'ok'));
          await drawSilences();
        } catch (err) { formMsg.replaceChildren(notice(errorText(err), 'error')); }
      },
    }, field(t('silences.kind'), kind), field(t('silences.target'), target), field(t('silences.until'), until),
    h('button', { type: 'submit', id: 'silence-add' }, t('silences.add')), formMsg);
  }

  // Live: alarm events of this organisation refresh the lists (coalesced), and so does
  // the stream (re)connecting, which may have missed some. Listening starts before the lists
  // are shown and read, so an alarm raised meanwhile is announced and read too.
  let timer: number | undefined;
  const off = onLive((ev) => {
    if (ev.type !== 'alarm' && ev.type !== 'open') return;
    if (ev.type === 'alarm') {
      const a = ev.data as { event?: string; deviceId?: number };
      announce(t(`alarmEvent.${a.event ?? 'updated'}`, { device: devName(a.deviceId) }));
    }
    window.clearTimeout(timer);
    timer = window.setTimeout(() => { void refresh().catch(() => {}); }, 300);
  });
  drawActive(first.items);
  append(root, [msg, live,
    section(t('alarms.active'), criticalAlertsSwitch(), activeBox),
    section(t('silences.title'), h('p', { class: 'hint' }, t('silences.hint')), silenceForm, silenceBox),
    section(t('alarms.history'), historyBox)]);
  const stop = () => { off(); window.clearTimeout(timer); };
  try {
    await Promise.all([refresh(), drawSilences()]);
  } catch (e) { stop(); throw e; }
  return stop;
}
