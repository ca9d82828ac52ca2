// A dashboard's map widget: the located devices of one application as status markers (map.ts's
// markers and tiles), fitted to them. Loaded on demand with Leaflet.
import { baseMap, deviceMarker } from './map';
import { api } from '../api';
import { orgData, DeviceRow } from '../state';
import L from 'leaflet';

let config: Promise<{ tileUrl?: string; tileAttribution?: string } | null> | null = null;

export function deviceMap(el: HTMLElement, rows: DeviceRow[]): () => void {
  let map: L.Map | null = null;
  let gone = false;
  const located = rows.filter((r) => r.d.location && Number.isFinite(r.d.location.lat));
  el.dataset.shown = String(located.length);
  config ??= api.uiConfig().catch(() => null);
  void Promise.all([config, orgData()]).then(([cfg, od]) => {
    if (gone) return;
    map = baseMap(el, cfg);
    const group = L.featureGroup(located.map((r) => deviceMarker(r, () => od.latest.get(r.d.id)?.readings))).addTo(map);
    if (located.length) map.fitBounds(group.getBounds(), { padding: [20, 20], maxZoom: 15, animate: false });
  });
  const ro = new ResizeObserver(() => map?.invalidateSize());
  ro.observe(el);
  return () => { gone = true; ro.disconnect(); map?.remove(); };
}
