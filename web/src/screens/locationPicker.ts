// A device's location picked on a map (issue 21 §2, the device form): a click on the map, or
// dragging the marker, sets the latitude and longitude fields (6 decimals, ~0.1 m); typing in the
// fields moves the marker; "my position" takes the browser's geolocation (asked only on that
// click). Loaded on demand with Leaflet (map.ts's base map and tiles). No address is sent
// anywhere: the map only turns a point into coordinates.
import L from 'leaflet';
import { h } from '../dom';
import { t } from '../i18n';
import { api } from '../api';
import { baseMap } from './map';

const round = (x: number) => Math.round(x * 1e6) / 1e6;

export function locationPicker(lat: HTMLInputElement, lon: HTMLInputElement): { el: HTMLElement; destroy: () => void } {
  const box = h('div', { class: 'map location-map', id: 'location-map', role: 'application', 'aria-label': t('form.mapHint') });
  const status = h('p', { class: 'hint', 'aria-live': 'polite' }, t('form.mapHint'));
  const mine = h('button', { type: 'button', class: 'secondary', id: 'my-position' }, t('form.myPosition'));
  let map: L.Map | null = null;
  let marker: L.Marker | null = null;
  const current = (): L.LatLng | null => {
    const a = Number(lat.value), b = Number(lon.value);
    return lat.value !== '' && lon.value !== '' && Math.abs(a) <= 90 && Math.abs(b) <= 180 ? L.latLng(a, b) : null;
  };
  const show = (p: L.LatLng | null, pan: boolean) => {
    box.dataset.marker = p ? `${round(p.lat)},${round(p.lng)}` : '';
    if (!map) return;
    if (!p) { marker?.remove(); marker = null; return; }
    if (!marker) {
      marker = L.marker(p, {
        draggable: true, keyboard: true, title: t('form.location'), alt: t('form.location'),
        icon: L.divIcon({ className: 'dev-marker pick-marker', iconSize: [18, 18] }),
      }).addTo(map);
      marker.on('dragend', () => set(marker!.getLatLng(), false));
    } else {
      marker.setLatLng(p);
    }
    if (pan) map.setView(p, Math.max(map.getZoom(), 15), { animate: false });
  };
  const set = (p: L.LatLng, pan: boolean) => {
    lat.value = String(round(p.lat));
    lon.value = String(round(L.Util.wrapNum(p.lng, [-180, 180], true)));
    show(current(), pan);
  };
  const onType = () => show(current(), true);
  lat.addEventListener('input', onType);
  lon.addEventListener('input', onType);
  mine.addEventListener('click', () => {
    if (!('geolocation' in navigator)) { status.textContent = t('form.noPosition'); return; }
    status.textContent = t('loading');
    navigator.geolocation.getCurrentPosition(
      (pos) => { set(L.latLng(pos.coords.latitude, pos.coords.longitude), true); status.textContent = t('form.mapHint'); },
      () => { status.textContent = t('form.noPosition'); },
      { enableHighAccuracy: true, timeout: 15000 });
  });
  void api.uiConfig().catch(() => null).then((cfg) => {
    if (!box.isConnected) return;
    map = baseMap(box, cfg);
    map.on('click', (e: L.LeafletMouseEvent) => set(e.latlng, false));
    const p = current();
    show(p, Boolean(p));
    box.dataset.ready = '1';
  });
  const ro = new ResizeObserver(() => map?.invalidateSize());
  ro.observe(box);
  return {
    el: h('div', { class: 'location-picker' }, box, h('div', { class: 'row' }, mine), status),
    destroy: () => { ro.disconnect(); lat.removeEventListener('input', onType); lon.removeEventListener('input', onType); map?.remove(); },
  };
}
