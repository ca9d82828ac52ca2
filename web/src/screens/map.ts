// The map: every located device as a small coloured marker (status), in
// clusters, filtered by application and status (kept in the URL: ?app=&status=,
// so a filtered map can be linked). Markers are divIcons styled from the bundled CSS; with no tiles
// reachable the map shows markers on a plain background.
import L from 'leaflet';
import 'leaflet.markercluster';
import 'leaflet/dist/leaflet.css';
import 'leaflet.markercluster/dist/MarkerCluster.css';
import { h, field } from '../dom';
import { t, fmtValue, fmtAgo } from '../i18n';
import { orgData, restricted, state, DeviceRow, Status } from '../state';
import { api, Gateway } from '../api';
import { STATE_CLASS, gatewayBadge, gatewayState, located as gatewayLocated } from '../gatewayUi';
import { title, badge, notice } from '../ui';

const OSM = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';
const OSM_ATTR = '© OpenStreetMap contributors';

function popup(r: DeviceRow, latest: Record<string, { value: unknown; unit?: string }> | undefined): HTMLElement {
  const entries = Object.entries(latest ?? {}).slice(0, 8);
  return h('div', { class: 'popup' },
    h('strong', null, r.d.name), ' ', badge(r.status),
    h('div', null, `${t('devices.lastSeen')}: ${fmtAgo(r.lastSeen)}`),
    entries.length ? h('dl', null, entries.map(([k, v]) =>
      [h('dt', null, k), h('dd', null, `${fmtValue(v.value)}${v.unit ? ` ${v.unit}` : ''}`)])) : null,
    h('a', { href: `/devices/${r.d.id}` }, t('map.open')));
}

// A base map in `el` with the configured tiles (GET /ui-config), also the dashboards' map widget's.
export function baseMap(el: HTMLElement, cfg: { tileUrl?: string; tileAttribution?: string } | null): L.Map {
  const map = L.map(el, { preferCanvas: false, worldCopyJump: true }).setView([56.2, 10.5], 7);
  const tileUrl = cfg && typeof cfg.tileUrl === 'string' ? cfg.tileUrl : OSM;
  if (tileUrl && tileUrl !== 'none') {
    L.tileLayer(tileUrl, {
      maxZoom: 19, attribution: cfg?.tileAttribution ?? (tileUrl === OSM ? OSM_ATTR : ''),
    }).addTo(map);
  }
  return map;
}

// A located device's marker, coloured by its status, with its latest values in the popup.
export function deviceMarker(r: DeviceRow, latest: () => Record<string, { value: unknown; unit?: string }> | undefined): L.Marker {
  const m = L.marker([r.d.location!.lat, r.d.location!.lon], {
    icon: L.divIcon({ className: `dev-marker st-${r.status}`, iconSize: [16, 16] }),
    title: `${r.d.name} – ${t(`status.${r.status}`)}`, alt: r.d.name, keyboard: true,
    st: r.status,
  } as L.MarkerOptions);
  m.bindPopup(() => popup(r, latest()));
  return m;
}

// A located gateway's marker: a square (devices are round), coloured by its state.
export function gatewayMarker(g: Gateway): L.Marker {
  const s = gatewayState(g);
  const m = L.marker([g.location!.latitude, g.location!.longitude], {
    icon: L.divIcon({ className: `gw-marker ${STATE_CLASS[s]}`, iconSize: [18, 18] }),
    title: `${t('gw.one', { id: g.gatewayId })} – ${t(`gw.state.${s}`)}`, alt: g.gatewayId, keyboard: true,
    zIndexOffset: 1000,
  });
  m.bindPopup(() => h('div', { class: 'popup' },
    h('strong', null, t('gw.one', { id: g.gatewayId })), ' ', gatewayBadge(g),
    h('div', null, `${t('gw.lastSeen')}: ${g.lastSeen ? fmtAgo(Date.parse(g.lastSeen)) : '–'}`),
    h('a', { href: `/gateways/${encodeURIComponent(g.gatewayId)}` }, t('gw.open'))));
  return m;
}

const STATUSES: Status[] = ['ok', 'silent', 'alarm', 'maintenance', 'unknown'];

export async function mapScreen(root: HTMLElement): Promise<() => void> {
  root.appendChild(title(t('map.title')));
  // Gateways are the organisation's: a member restricted to some applications sees none.
  const [od, cfg, gateways] = await Promise.all([orgData(), api.uiConfig().catch(() => null),
    restricted() ? Promise.resolve([] as Gateway[]) : api.gateways(state.orgId).catch(() => [] as Gateway[])]);
  const params = new URLSearchParams(location.search);
  const appSel = h('select', { id: 'map-app' }, h('option', { value: '' }, t('devices.all')),
    od.apps.map((a) => h('option', { value: String(a.id) }, a.name)));
  const statusSel = h('select', { id: 'map-status' }, h('option', { value: '' }, t('devices.all')),
    STATUSES.map((s) => h('option', { value: s }, t(`status.${s}`))));
  appSel.value = od.apps.some((a) => String(a.id) === params.get('app')) ? String(params.get('app')) : '';
  statusSel.value = STATUSES.includes(params.get('status') as Status) ? String(params.get('status')) : '';
  const gwLocated = gateways.filter(gatewayLocated);
  const gwBox = h('input', { type: 'checkbox', id: 'map-gateways' }) as HTMLInputElement;
  gwBox.checked = params.get('gateways') !== '0';
  const count = h('p', { class: 'count', id: 'map-count', 'aria-live': 'polite' });
  const legend = h('ul', { class: 'legend', 'aria-label': t('devices.status') },
    STATUSES.map((s) => h('li', null, badge(s))));
  const mapEl = h('div', { id: 'map', class: 'map', role: 'region', 'aria-label': t('map.label') });
  const located = od.rows.filter((r) => r.d.location && Number.isFinite(r.d.location.lat));
  const missing = od.rows.length - located.length;
  root.append(h('div', { class: 'row filters', role: 'search' },
    field(t('devices.app'), appSel), field(t('devices.status'), statusSel),
    gwLocated.length ? h('label', { class: 'check' }, gwBox, ` ${t('map.gateways', { n: gwLocated.length })}`) : null),
  count, legend, mapEl);
  if (missing > 0) root.appendChild(notice(t('map.noLocation', { n: missing })));

  const map = baseMap(mapEl, cfg);
  const cluster = L.markerClusterGroup({
    chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50,
    iconCreateFunction: (c) => {
      const kids = c.getAllChildMarkers();
      const worst = kids.some((m) => (m.options as { st?: string }).st === 'alarm') ? 'alarm'
        : kids.some((m) => (m.options as { st?: string }).st === 'silent') ? 'silent' : 'ok';
      return L.divIcon({
        className: `cluster st-${worst}`, iconSize: [36, 36],
        html: h('span', null, String(c.getChildCount())),
      });
    },
  });
  const markers = located.map((r) => ({ r, m: deviceMarker(r, () => od.latest.get(r.d.id)?.readings) }));
  map.addLayer(cluster);
  // The gateways as their own layer, above the devices and never clustered with them.
  const gwLayer = L.layerGroup(gwLocated.map(gatewayMarker));
  const apply = (fit: boolean) => {
    const app = appSel.value;
    const st = statusSel.value;
    const shown = markers.filter(({ r }) => (!app || String(r.d.applicationId) === app) && (!st || r.status === st));
    cluster.clearLayers();
    cluster.addLayers(shown.map((x) => x.m));
    count.textContent = t('map.count', { n: shown.length });
    mapEl.dataset.shown = String(shown.length);
    const q = new URLSearchParams();
    if (app) q.set('app', app);
    if (st) q.set('status', st);
    if (gwLocated.length && !gwBox.checked) q.set('gateways', '0');
    if (gwBox.checked) gwLayer.addTo(map); else gwLayer.remove();
    mapEl.dataset.gateways = String(gwBox.checked ? gwLocated.length : 0);
    history.replaceState(null, '', q.toString() ? `/map?${q}` : '/map');
    if (fit && shown.length) map.fitBounds(cluster.getBounds(), { padding: [30, 30], maxZoom: 15, animate: false });
  };
  appSel.addEventListener('change', () => apply(true));
  statusSel.addEventListener('change', () => apply(true));
  gwBox.addEventListener('change', () => apply(false));
  apply(true);
  const ro = new ResizeObserver(() => map.invalidateSize());
  ro.observe(mapEl);
  return () => { ro.disconnect(); map.remove(); };
}
