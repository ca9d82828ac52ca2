// Integrations screen (lazy-loaded): the organisation's ChirpStack v4 brokers
// and the applications' external MQTT brokers with their live connection
// status (create / edit / delete for organisation admins), LoRaWAN uplinks from
// unknown DevEUIs (onboarding: "create device" opens the device form
// prefilled) and the gateways seen. The lists refresh every few seconds.
import { h, append, field, Child } from '../dom';
import { optional, request } from '../api';
import { t, fmtDate, fmtNum } from '../i18n';
import { state, isAdmin, canEdit, orgData } from '../state';
import { title, section, table, notice, unavailable, errorText } from '../ui';
import { integrationForm, Integration, Kind } from './integrationForm';

interface Unknown { devEui: string; applicationId: string; integrationId?: number; firstSeen: string; lastSeen: string; uplinks: number }
// A gateway's health (api/gateways.cc): online is null until ChirpStack sent its state.
interface Gateway {
  gatewayId: string; online: boolean | null; stateSince: string | null; firstSeen: string | null; lastSeen: string | null;
  uplinks: number; location: { latitude: number; longitude: number } | null;
}
interface Heard { deviceId: number; name: string; rssi: number | null; snr: number | null; lastSeen: string; uplinks: number }
type Items<T> = { items: T[] };

const REFRESH_MS = 5000;
// Connection state → the status dot colours of ui.ts's badge.
const DOT: Record<string, string> = { connected: 'ok', connecting: 'silent', error: 'alarm', disabled: 'maintenance' };

function statusCell(i: Integration): HTMLElement {
  return h('div', { class: 'int-status', 'data-status': i.status },
    h('span', { class: `badge st-${DOT[i.status] ?? 'unknown'}` },
      h('span', { class: 'dot', 'aria-hidden': 'true' }), t(`int.state.${i.status}`)),
    i.statusSince ? h('small', { class: 'hint' }, ` ${t('int.since', { when: fmtDate(i.statusSince) })}`) : null,
    i.lastError ? h('div', { class: 'int-error' }, i.lastError) : null);
}

// Online, offline, or unknown (ChirpStack has not sent the gateway's state), with the badge dots.
function gatewayState(g: Gateway): HTMLElement {
  const [dot, text] = g.online === null ? ['unknown', t('int.gwUnknown')] : g.online ? ['ok', t('int.gwOnline')] : ['alarm', t('int.gwOffline')];
  return h('span', { class: `badge st-${dot}`, 'data-gateway-state': g.online === null ? 'unknown' : g.online ? 'online' : 'offline' },
    h('span', { class: 'dot', 'aria-hidden': 'true' }), text);
}

export async function integrationsScreen(root: HTMLElement): Promise<() => void> {
  root.appendChild(title(t('int.title')));
  const org = state.orgId;
  const first = await optional<Items<Integration>>(`/api/v1/organizations/${org}/integrations/chirpstack`);
  if (first === null) { root.appendChild(unavailable()); return () => {}; }
  const od = await orgData();
  const admin = isAdmin();
  const msg = h('div', { 'aria-live': 'polite', id: 'int-msg' });
  const csBox = h('div', { id: 'chirpstack-list' });
  const mqBox = h('div', { id: 'mqtt-list' });
  const csForm = h('div', { id: 'chirpstack-form-box' });
  const mqForm = h('div', { id: 'mqtt-form-box' });
  const unknownBox = h('div', { id: 'unknown-devices' });
  const gwBox = h('div', { id: 'gateways' });
  const appName = (id?: number) => od.apps.find((a) => a.id === id)?.name ?? `#${id ?? ''}`;
  let chirpstack = first.items;
  let last = '';

  const closeForms = () => { csForm.replaceChildren(); mqForm.replaceChildren(); };
  const openForm = (kind: Kind, item: Integration | null) => {
    closeForms();
    const box = kind === 'chirpstack' ? csForm : mqForm;
    box.replaceChildren(integrationForm({
      kind, item, orgId: org, apps: od.apps,
      onCancel: closeForms,
      onSaved: (saved) => {
        closeForms();
        msg.replaceChildren(notice(t(item ? 'int.saved' : 'int.created', { name: saved.name }), 'ok'));
        void refresh();
      },
    }));
    box.querySelector('input')?.focus();
  };
  const remove = async (kind: Kind, i: Integration) => {
    if (!confirm(t('int.confirmDelete', { name: i.name }))) return;
    try {
      await request(`/api/v1/integrations/${kind}/${i.id}`, { method: 'DELETE' });
      closeForms();
      msg.replaceChildren(notice(t('int.deleted', { name: i.name }), 'ok'));
      await refresh();
    } catch (e) { msg.replaceChildren(notice(errorText(e), 'error')); }
  };
  const actions = (kind: Kind, i: Integration): Child[] => (admin ? [h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'secondary small', 'data-edit': '', 'aria-label': `${t('int.edit')}: ${i.name}`,
      onclick: () => openForm(kind, i) }, t('int.edit')),
    h('button', { type: 'button', class: 'danger small', 'data-edit': '', 'aria-label': `${t('int.delete')}: ${i.name}`,
      onclick: () => void remove(kind, i) }, t('int.delete')))] : []);
  const list = (kind: Kind, items: Integration[]): HTMLElement => {
    if (!items.length) return h('p', null, t(`int.none.${kind}`));
    const heads = [t('form.name'), ...(kind === 'mqtt' ? [t('int.app'), t('int.topicFilter')] : []),
      t('int.url'), t('int.clientId'), t('int.enabled'), t('int.status'), ...(admin ? [t('int.actions')] : [])];
    return table(t(`int.section.${kind}`), heads, items.map((i) => [
      h('span', { class: 'int-name', 'data-integration': String(i.id) }, i.name),
      ...(kind === 'mqtt' ? [appName(i.applicationId),
        h('span', null, h('code', null, i.topicFilter ?? ''), ' ',
          t('int.mappingText', { n: i.deviceTopicLevel ?? 0, m: t(`int.match.${i.deviceMatch ?? 'id'}`) }))] : []),
      h('code', null, i.url), h('code', null, i.clientId), i.enabled ? t('int.yes') : t('int.no'),
      statusCell(i), ...actions(kind, i)]), `integrations ${kind}`);
  };

  const drawUnknown = (items: Unknown[]) => {
    const csName = (id?: number) => chirpstack.find((c) => c.id === id)?.name ?? (id ? `#${id}` : '–');
    const editor = canEdit();
    unknownBox.replaceChildren(items.length ? table(t('int.unknown'),
      [t('form.devEui'), t('int.csApp'), t('int.integration'), t('int.firstSeen'), t('int.lastSeen'), t('int.uplinks'),
        ...(editor ? [t('int.actions')] : [])],
      items.map((u) => [h('code', null, u.devEui), u.applicationId || '–', csName(u.integrationId),
        fmtDate(u.firstSeen), fmtDate(u.lastSeen), fmtNum(u.uplinks, 0),
        ...(editor ? [h('a', {
          class: 'button small', 'data-edit': '', 'data-dev-eui': u.devEui, 'aria-label': `${t('int.createDevice')}: ${u.devEui}`,
          href: `/devices/new?${new URLSearchParams({ devEui: u.devEui, transport: 'lorawan' })}`,
        }, t('int.createDevice'))] : [])]), 'unknown-devices') : h('p', null, t('int.unknownNone')));
  };
  const drawGateways = (items: Gateway[]) => {
    gwBox.replaceChildren(items.length ? table(t('int.gateways'),
      [t('int.gatewayId'), t('int.gwState'), t('int.gwSince'), t('int.lastSeen'), t('int.uplinks'), t('int.gwLocation')],
      items.map((g) => [h('code', null, g.gatewayId), gatewayState(g), g.stateSince ? fmtDate(g.stateSince) : '',
        g.lastSeen ? fmtDate(g.lastSeen) : '', fmtNum(g.uplinks, 0),
        g.location ? `${fmtNum(g.location.latitude, 5)}, ${fmtNum(g.location.longitude, 5)}` : '']), 'gateways')
      : h('p', null, t('int.gatewaysNone')));
    // The devices a chosen gateway hears, read when it is chosen (not on every refresh).
    const ids = items.map((g) => g.gatewayId);
    if (ids.join() !== heardPick.dataset.ids) {
      const keep = heardPick.value;
      heardPick.replaceChildren(h('option', { value: '' }, t('int.heardChoose')), ...ids.map((id) => h('option', { value: id }, id)));
      heardPick.dataset.ids = ids.join();
      heardPick.value = ids.includes(keep) ? keep : '';
    }
  };
  const heardPick = h('select', { id: 'heard-gateway', onchange: () => void drawHeard() }) as HTMLSelectElement;
  const heardBox = h('div', { id: 'heard-devices', 'aria-live': 'polite' });
  const drawHeard = async () => {
    const id = heardPick.value;
    if (!id) { heardBox.replaceChildren(); return; }
    try {
      const heard = await request<Items<Heard>>(`/api/v1/organizations/${org}/gateways/${encodeURIComponent(id)}/devices`);
      heardBox.replaceChildren(heard.items.length ? table(t('int.heard'),
        [t('devices.name'), t('device.rssi'), t('device.snr'), t('int.lastSeen'), t('int.uplinks')],
        heard.items.map((d) => [h('a', { href: `/devices/${d.deviceId}` }, d.name), d.rssi === null ? '' : fmtNum(d.rssi, 0),
          d.snr === null ? '' : fmtNum(d.snr, 1), fmtDate(d.lastSeen), fmtNum(d.uplinks, 0)]), 'heard')
        : h('p', null, t('int.heardNone')));
    } catch (e) { heardBox.replaceChildren(notice(errorText(e), 'error')); }
  };

  // Re-reads everything; the tables are redrawn only when something changed,
  // so a periodic refresh does not take the keyboard focus away for nothing.
  const refresh = async () => {
    try {
      const [cs, mq, unknown, gws] = await Promise.all([
        request<Items<Integration>>(`/api/v1/organizations/${org}/integrations/chirpstack`),
        Promise.all(od.apps.map((a) => request<Items<Integration>>(`/api/v1/applications/${a.id}/integrations/mqtt`))),
        request<Items<Unknown>>(`/api/v1/organizations/${org}/lorawan/unknown-devices`),
        request<Items<Gateway>>(`/api/v1/organizations/${org}/gateways`),
      ]);
      const mqtt = mq.flatMap((x) => x.items);
      const key = JSON.stringify([cs, mqtt, unknown, gws]);
      if (key === last) return;
      last = key;
      chirpstack = cs.items;
      csBox.replaceChildren(list('chirpstack', cs.items));
      mqBox.replaceChildren(list('mqtt', mqtt));
      drawUnknown(unknown.items);
      drawGateways(gws.items);
    } catch (e) { msg.replaceChildren(notice(errorText(e), 'error')); }
  };

  // An external broker belongs to an application: none, no button.
  const newButton = (kind: Kind) => (admin && (kind === 'chirpstack' || od.apps.length) ? h('div', { class: 'actions' },
    h('button', { type: 'button', id: kind === 'chirpstack' ? 'cs-new' : 'mqtt-new', 'data-edit': '',
      onclick: () => openForm(kind, null) }, t(`int.new.${kind}`))) : null);
  append(root, [msg,
    admin ? null : h('p', { class: 'hint' }, t('int.adminOnly')),
    section(t('int.section.chirpstack'), h('p', { class: 'hint' }, t('int.chirpstackHint')),
      newButton('chirpstack'), csForm, csBox),
    section(t('int.section.mqtt'), h('p', { class: 'hint' }, t('int.mqttHint')),
      newButton('mqtt'), mqForm, mqBox),
    section(t('int.unknown'), h('p', { class: 'hint' }, t('int.unknownHint')), unknownBox),
    section(t('int.gateways'), h('p', { class: 'hint' }, t('int.gatewaysHint')), gwBox,
      h('h3', null, t('int.heard')), field(t('int.gatewayId'), heardPick), heardBox)]);
  await refresh();
  const timer = window.setInterval(() => { if (document.visibilityState === 'visible') void refresh(); }, REFRESH_MS);
  return () => window.clearInterval(timer);
}
