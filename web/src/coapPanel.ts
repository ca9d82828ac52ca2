// A device's CoAP access for NB-IoT (editors of HTTP devices; src/coap/README.md): the DTLS
// pre-shared key's identity and date, a button that makes or replaces the key (shown once, with
// the addresses the device sends to) and one that removes it. Over plain UDP the device uses its
// ingest key instead (`?k=`), which the device's "New key" button replaces.
import { h, field } from './dom';
import { api, optional, request } from './api';
import { t, fmtDate } from './i18n';
import { notice, errorText, secretOnce, loading } from './ui';

interface CoapCredential { deviceId: number; identity: string; createdAt: string; key?: string }

const path = (id: number) => `/api/v1/devices/${id}/coap-credentials`;

// The addresses a device uses, from the ports the server listens on (GET /api/v1/ui-config).
function addresses(ports: { udpPort?: number; dtlsPort?: number } | undefined): Array<[string, string]> {
  if (!ports?.udpPort) return [];
  const host = location.hostname.includes(':') ? `[${location.hostname}]` : location.hostname;
  const rows: Array<[string, string]> = [[t('coap.udp'), `coap://${host}:${ports.udpPort}/ingest?k=…`]];
  if (ports.dtlsPort) rows.push([t('coap.dtls'), `coaps://${host}:${ports.dtlsPort}/ingest`]);
  return rows;
}

export function coapPanel(deviceId: number, deviceName: string): HTMLElement {
  const box = h('div', { id: 'coap-panel' });
  const status = h('div', { id: 'coap-status' }, loading());
  const secret = h('div', { id: 'coap-secret' });
  const identity = h('input', { name: 'identity', maxlength: '64', autocomplete: 'off', spellcheck: 'false' }) as HTMLInputElement;
  let ports: { udpPort?: number; dtlsPort?: number } | undefined;
  const remove = h('button', {
    type: 'button', class: 'danger small', id: 'coap-remove', 'data-edit': '', hidden: true,
    onclick: async () => {
      if (!confirm(t('coap.confirmRemove', { name: deviceName }))) return;
      try {
        await request<void>(path(deviceId), { method: 'DELETE' });
        secret.replaceChildren();
        await load();
      } catch (e) { secret.replaceChildren(notice(errorText(e), 'error')); }
    },
  }, t('coap.remove'));
  const make = h('button', {
    type: 'button', class: 'secondary', id: 'coap-new-key', 'data-edit': '',
    onclick: async () => {
      try {
        const body = identity.value.trim() ? { identity: identity.value.trim() } : {};
        const c = await request<CoapCredential>(path(deviceId), { method: 'POST', body });
        secret.replaceChildren(secretOnce(t('coap.keyOnce'), c.key ?? '', 'coap-new-secret',
          [[t('coap.identity'), c.identity], ...addresses(ports)]));
        identity.value = '';
        await load();
      } catch (e) { secret.replaceChildren(notice(errorText(e), 'error')); }
    },
  }, t('coap.newKey'));
  async function load(): Promise<void> {
    const [c, cfg] = await Promise.all([optional<CoapCredential>(path(deviceId)), api.uiConfig().catch(() => null)]);
    ports = cfg?.coap;
    remove.hidden = !c;
    status.replaceChildren(
      h('p', null, c ? t('coap.has', { identity: c.identity, date: fmtDate(c.createdAt) }) : t('coap.none')));
    if (!ports) status.append(h('p', { class: 'hint' }, t('coap.off')));
  }
  box.append(h('p', { class: 'hint' }, t('coap.intro')), status,
    h('div', { class: 'row' }, field(t('coap.identityOptional'), identity), make, remove), secret);
  load().catch((e) => status.replaceChildren(notice(errorText(e), 'error')));
  return box;
}
