// Small pieces the gateway screens and the map's gateway layer share: a gateway's state badge
// and whether it has a place on the map. A gateway is online, offline or not yet known (no
// ChirpStack state/conn seen: only its uplinks).
import { h } from './dom';
import { t } from './i18n';
import type { Gateway } from './api';

export type GatewayState = 'online' | 'offline' | 'unknown';

export function gatewayState(g: Pick<Gateway, 'online'>): GatewayState {
  return g.online === null ? 'unknown' : g.online ? 'online' : 'offline';
}

export const STATE_CLASS: Record<GatewayState, string> = { online: 'st-ok', offline: 'st-alarm', unknown: 'st-unknown' };

export function gatewayBadge(g: Pick<Gateway, 'online'>): HTMLElement {
  const s = gatewayState(g);
  return h('span', { class: `badge ${STATE_CLASS[s]}`, 'data-state': s },
    h('span', { class: 'dot', 'aria-hidden': 'true' }), t(`gw.state.${s}`));
}

export const located = (g: Gateway): boolean =>
  g.location !== null && Number.isFinite(g.location.latitude) && Number.isFinite(g.location.longitude) &&
  !(g.location.latitude === 0 && g.location.longitude === 0);
