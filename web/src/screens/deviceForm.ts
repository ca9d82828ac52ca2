import { h, field } from '../dom';
import { api, Device } from '../api';
import { t } from '../i18n';
import { orgData, canEdit, state } from '../state';
import { title, notice, errorText, secretOnce } from '../ui';
import { navigate } from '../router';
import type { Cleanup } from '../router';

export async function deviceFormScreen(root: HTMLElement, p: Record<string, string>): Promise<Cleanup> {
  const editing = p.id ? Number(p.id) : 0;
  root.appendChild(title(t(editing ? 'form.editTitle' : 'form.newTitle')));
  if (!canEdit()) { root.appendChild(notice(t('admin.noAccess'), 'error')); return; }
  const od = await orgData();
  // A new device may come prefilled from a link (?devEui=…&transport=lorawan, onboarding).
  const q = new URLSearchParams(location.search);
  const pre = q.get('transport');
  const d: Partial<Device> = editing ? await api.device(editing) : {
    transport: pre === 'mqtt' || pre === 'lorawan' ? pre : 'http', devEui: q.get('devEui'), tags: [] };

  const name = h('input', { type: 'text', required: true, value: d.name ?? '', autocomplete: 'off' });
  const app = h('select', { required: true, disabled: Boolean(editing) },
    od.apps.map((a) => h('option', { value: String(a.id) }, a.name)));
  if (d.applicationId) app.value = String(d.applicationId);
  const transport = h('select', { disabled: Boolean(editing) },
    ['http', 'mqtt', 'lorawan'].map((x) => h('option', { value: x }, x)));
  transport.value = d.transport ?? 'http';
  const devEui = h('input', { type: 'text', value: d.devEui ?? '', pattern: '[0-9A-Fa-f]{16}', autocomplete: 'off' });
  const lat = h('input', { type: 'number', step: 'any', min: '-90', max: '90', value: d.location?.lat ?? '' });
  const lon = h('input', { type: 'number', step: 'any', min: '-180', max: '180', value: d.location?.lon ?? '' });
  // The map to pick the location on, opened on demand (Leaflet is loaded then).
  const pickerBox = h('div', { id: 'location-picker' });
  let picker: { destroy: () => void } | null = null;
  const pick = h('button', { type: 'button', class: 'secondary', id: 'pick-location', 'aria-expanded': 'false' }, t('form.pickOnMap'));
  pick.addEventListener('click', () => {
    if (pick.getAttribute('aria-expanded') === 'true') return;
    pick.setAttribute('aria-expanded', 'true');
    void import('./locationPicker').then(({ locationPicker }) => {
      const made = locationPicker(lat, lon);
      picker = made;
      pickerBox.replaceChildren(made.el);
      pick.hidden = true;
    });
  });
  const tags = h('input', { type: 'text', value: (d.tags ?? []).join(', '), autocomplete: 'off' });
  const model = h('select', null, h('option', { value: '' }, t('form.none')),
    od.models.map((m) => h('option', { value: String(m.id) }, m.name)));
  model.value = d.deviceModelId ? String(d.deviceModelId) : '';
  const interval = h('input', { type: 'number', min: '1', step: '1', value: d.expectedIntervalS ?? '' });
  const maint = h('input', { type: 'checkbox', checked: Boolean(d.inMaintenance) });
  const msg = h('div', { 'aria-live': 'polite' });

  const form = h('form', {
    class: 'card form', novalidate: false,
    onsubmit: async (e: Event) => {
      e.preventDefault();
      msg.replaceChildren();
      const body: Partial<Device> = {
        name: name.value.trim(),
        tags: tags.value.split(',').map((x) => x.trim()).filter(Boolean),
        location: lat.value !== '' && lon.value !== '' ? { lat: Number(lat.value), lon: Number(lon.value) } : null,
        deviceModelId: model.value ? Number(model.value) : null,
        expectedIntervalS: interval.value ? Number(interval.value) : 0,
        inMaintenance: maint.checked,
      };
      if (devEui.value.trim()) body.devEui = devEui.value.trim().toLowerCase();
      try {
        if (editing) {
          await api.updateDevice(editing, body);
          state.data = null;
          navigate(`/devices/${editing}`);
        } else {
          body.transport = transport.value as Device['transport'];
          const created = await api.createDevice(Number(app.value), body);
          state.data = null;
          if (created.apiKey) {
            form.replaceWith(h('div', { class: 'card' },
              notice(t('form.saved'), 'ok'),
              secretOnce(t('form.apiKeyOnce'), created.apiKey, 'device-api-key'),
              h('p', null, h('a', { class: 'button', href: `/devices/${created.id}` }, created.name))));
          } else {
            navigate(`/devices/${created.id}`);
          }
        }
      } catch (err) {
        msg.replaceChildren(notice(errorText(err), 'error'));
      }
    },
  },
  msg,
  field(t('form.name'), name), field(t('form.app'), app), field(t('form.transport'), transport),
  field(t('form.devEui'), devEui),
  h('div', { class: 'row' }, field(t('form.lat'), lat), field(t('form.lon'), lon), h('div', { class: 'field' }, pick)),
  pickerBox,
  field(t('form.tags'), tags), field(t('form.model'), model), field(t('form.interval'), interval),
  h('div', { class: 'field check' }, maint, h('label', { for: maint.id || (maint.id = 'maint') }, t('form.maintenance'))),
  h('div', { class: 'actions' },
    h('button', { type: 'submit' }, t('form.save')),
    h('a', { class: 'button secondary', href: editing ? `/devices/${editing}` : '/devices' }, t('form.cancel'))));
  root.appendChild(form);
  return () => picker?.destroy();
}
