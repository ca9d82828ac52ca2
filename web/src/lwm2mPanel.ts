// A device's LwM2M side (issue 20; HTTP devices that register over CoAP, src/lwm2m/README.md):
// its registration (endpoint, version, binding and queue mode, lifetime, last update, objects
// named for the common IPSO ones) and the operations queued for it (read, write, execute of a
// path, sent when the device is awake) with their state and answer; editors queue new ones.
import { h, field } from './dom';
import { optional, request, Page } from './api';
import { t, tEnum, fmtDate } from './i18n';
import { canEdit } from './state';
import { table, notice, errorText, loading } from './ui';

interface Registration {
  registered: boolean; endpoint: string; lifetime: number; binding: string; queueMode: boolean;
  lwm2mVersion: string; objects: string[]; registeredAt: string; updatedAt: string; expiresAt: string;
  observations?: Observation[];
}
interface Observation { path: string; since: string; notifications: number; lastAt: string | null }
interface Operation {
  id: number; kind: string; path: string; value?: string; state: string; createdAt: string; updatedAt: string;
  resultCode?: string; result?: string; error?: string;
}

// OMA object ids of the objects a municipality's devices commonly carry.
const OBJECT_NAMES: Record<string, string> = {
  '1': 'lwm2m.obj.server', '3': 'lwm2m.obj.device', '4': 'lwm2m.obj.connectivity', '5': 'lwm2m.obj.firmware',
  '6': 'lwm2m.obj.location', '3200': 'lwm2m.obj.digitalInput', '3301': 'lwm2m.obj.illuminance',
  '3303': 'lwm2m.obj.temperature', '3304': 'lwm2m.obj.humidity', '3424': 'lwm2m.obj.waterMeter',
  '3428': 'lwm2m.obj.airQuality',
};

function objectLabel(path: string): string {
  const id = path.replace(/^\//, '').split('/')[0];
  const name = OBJECT_NAMES[id];
  return name ? `${path} (${t(name)})` : path;
}

// The resources bysans observes on the device: each notification becomes readings.
function observationList(items: Observation[]): HTMLElement {
  if (!items.length) return h('span', null, t('lwm2m.noObservations'));
  return h('ul', null, items.map((o) => h('li', { 'data-path': o.path }, h('code', null, o.path),
    ` — ${t('lwm2m.notifications')}: ${o.notifications}`,
    o.lastAt ? `, ${t('lwm2m.lastNotification')} ${fmtDate(o.lastAt)}` : '')));
}

export function lwm2mPanel(deviceId: number): HTMLElement {
  const base = `/api/v1/devices/${deviceId}/lwm2m`;
  const box = h('div', { id: 'lwm2m-panel' });
  const reg = h('div', { id: 'lwm2m-registration' }, loading());
  const ops = h('div', { id: 'lwm2m-operations' });
  async function load(): Promise<void> {
    const [r, list] = await Promise.all([optional<Registration>(base), optional<Page<Operation>>(`${base}/operations?limit=50`)]);
    if (!r) reg.replaceChildren(h('p', null, t('lwm2m.none')));
    else {
      reg.dataset.registered = String(r.registered);
      reg.replaceChildren(h('dl', { class: 'health' },
        h('dt', null, t('lwm2m.state')), h('dd', { id: 'lwm2m-state' }, t(r.registered ? 'lwm2m.registered' : 'lwm2m.expired')),
        h('dt', null, t('lwm2m.endpoint')), h('dd', null, h('code', null, r.endpoint)),
        h('dt', null, t('lwm2m.version')), h('dd', null, r.lwm2mVersion),
        h('dt', null, t('lwm2m.binding')), h('dd', null, r.queueMode ? `${r.binding} (${t('lwm2m.queueMode')})` : r.binding),
        h('dt', null, t('lwm2m.updated')), h('dd', null, fmtDate(r.updatedAt)),
        h('dt', null, t('lwm2m.expires')), h('dd', null, fmtDate(r.expiresAt)),
        h('dt', null, t('lwm2m.objects')), h('dd', { id: 'lwm2m-objects' },
          h('ul', null, r.objects.map((o) => h('li', null, objectLabel(o))))),
        h('dt', null, t('lwm2m.observations')), h('dd', { id: 'lwm2m-observations' }, observationList(r.observations ?? []))));
    }
    const items = list?.items ?? [];
    ops.dataset.count = String(items.length);
    ops.replaceChildren(items.length ? table(t('lwm2m.operations'),
      [t('lwm2m.kind'), t('lwm2m.path'), t('lwm2m.value'), t('devices.status'), t('lwm2m.answer'), t('device.time')],
      items.map((o) => [tEnum('lwm2m.op', o.kind), h('code', null, o.path), o.value ?? '',
        h('span', { class: `op op-${o.state}`, 'data-state': o.state }, tEnum('lwm2m.opState', o.state)),
        o.error ?? (o.resultCode ? `${o.resultCode}${o.result ? ` ${o.result}` : ''}` : ''), fmtDate(o.updatedAt)]), 'lwm2m-ops')
      : h('p', null, t('lwm2m.noOperations')));
  }
  box.append(reg, h('h3', null, t('lwm2m.operations')), ops);
  if (canEdit()) {
    const kind = h('select', { name: 'kind', id: 'lwm2m-kind' },
      ['read', 'write', 'execute', 'observe', 'cancel-observe'].map((k) => h('option', { value: k }, tEnum('lwm2m.op', k)))) as HTMLSelectElement;
    const path = h('input', { name: 'path', id: 'lwm2m-path', required: true, placeholder: '/3/0/13', spellcheck: 'false', autocomplete: 'off' }) as HTMLInputElement;
    const value = h('input', { name: 'value', id: 'lwm2m-value', spellcheck: 'false', autocomplete: 'off' }) as HTMLInputElement;
    const msg = h('div', { 'aria-live': 'polite', id: 'lwm2m-msg' });
    box.append(h('form', {
      id: 'lwm2m-form', 'data-edit': '',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const body: Record<string, string> = { kind: kind.value, path: path.value.trim() };
        if ((kind.value === 'write' || kind.value === 'execute') && value.value !== '') body.value = value.value;
        try {
          await request(`${base}/operations`, { method: 'POST', body });
          msg.replaceChildren(notice(t('lwm2m.queued'), 'ok'));
          path.value = '';
          value.value = '';
          await load();
        } catch (err) { msg.replaceChildren(notice(errorText(err), 'error')); }
      },
    }, h('fieldset', null, h('legend', null, t('lwm2m.queue')),
      h('div', { class: 'row' }, field(t('lwm2m.kind'), kind), field(t('lwm2m.path'), path), field(t('lwm2m.value'), value, t('lwm2m.valueHint'))),
      h('button', { type: 'submit', id: 'lwm2m-queue' }, t('lwm2m.queueButton'))), msg));
  }
  load().catch((e) => reg.replaceChildren(notice(errorText(e), 'error')));
  return box;
}
