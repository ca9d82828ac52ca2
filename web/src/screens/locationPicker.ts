// A device's location picked on a map (issue 21 §2, the device form): a click on the map, or
// dragging the marker, sets the latitude and longitude fields (6 decimals, ~0.1 m); typing in the
// fields moves the marker; "my position" takes the browser's geolocation (asked only on that
// click); an address search (GET /api/v1/geocode, the server's geocoder: DAWA by default) lists
// places to pick. Loaded on demand with Leaflet (map.ts's base map and tiles). The browser sends
// the address text to bysans only; bysans asks the geocoder.
import L from 'leaflet';
import { h } from '../dom';
import { t } from '../i18n';
import { api, ApiError } from '../api';
import { errorText } from '../ui';
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
  // Address search: the places found, each a button that sets the location.
  const query = h('input', { type: 'search', id: 'address-search', autocomplete: 'off', 'aria-label': t('form.addressSearch') }) as HTMLInputElement;
  const found = h('ul', { class: 'address-results', id: 'address-results' });
  const search = async () => {
    const q = query.value.trim();
    if (q.length < 2) return;
    status.textContent = t('loading');
    try {
      const places = await api.geocode(q);
      status.textContent = places.length ? t('form.addressPick') : t('form.addressNone');
      found.replaceChildren(...places.map((pl) => h('li', null, h('button', {
        type: 'button', class: 'secondary small', 'data-place': `${pl.lat},${pl.lon}`,
        onclick: () => { set(L.latLng(pl.lat, pl.lon), true); status.textContent = pl.label; found.replaceChildren(); },
      }, pl.label))));
    } catch (e) {
      found.replaceChildren();
      status.textContent = e instanceof ApiError && e.status === 404 ? t('form.addressOff') : errorText(e);
    }
  };
  // Enter searches instead of submitting the device form around it.
  query.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); void search(); } });
  const searchButton = h('button', { type: 'button', class: 'secondary', id: 'address-search-go', onclick: () => void search() },
    t('form.addressSearchGo'));
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
    el: h('div', { class: 'location-picker' },
      h('div', { class: 'row' }, query, searchButton, mine), found, box, status),
    destroy: () => { ro.disconnect(); lat.removeEventListener('input', onType); lon.removeEventListener('input', onType); map?.remove(); },
  };
}
