// The organisation's LoRaWAN gateways (issue 20): state, since when, last seen, uplinks and
// location, each linking to its page. Gateways come from ChirpStack (the organisation's
// integration or the local ChirpStack on bysans' broker); bysans creates none itself.
import { h } from '../dom';
import { api } from '../api';
import { t, fmtAgo, fmtDate, fmtNum } from '../i18n';
import { state } from '../state';
import { title, table, notice } from '../ui';
import { gatewayBadge, gatewayState, located } from '../gatewayUi';

export async function gatewaysScreen(root: HTMLElement): Promise<void> {
  root.appendChild(title(t('gw.title')));
  const items = await api.gateways(state.orgId);
  if (!items.length) {
    root.appendChild(notice(t('gw.none')));
    return;
  }
  const offline = items.filter((g) => gatewayState(g) === 'offline').length;
  root.append(
    h('p', { class: 'count', id: 'gw-count' }, t('gw.count', { n: items.length, off: offline })),
    table(t('gw.title'), [t('gw.id'), t('gw.state'), t('gw.since'), t('gw.lastSeen'), t('gw.uplinks'), t('gw.location')],
      items.map((g) => [
        h('a', { href: `/gateways/${encodeURIComponent(g.gatewayId)}`, 'data-gateway': g.gatewayId }, h('code', null, g.gatewayId)),
        gatewayBadge(g),
        g.stateSince ? fmtDate(g.stateSince) : '–',
        g.lastSeen ? h('span', { title: fmtDate(g.lastSeen) }, fmtAgo(Date.parse(g.lastSeen))) : '–',
        fmtNum(g.uplinks, 0),
        located(g) ? `${fmtNum(g.location!.latitude, 5)}, ${fmtNum(g.location!.longitude, 5)}` : '–',
      ]), 'cards gateways'),
    h('p', null, h('a', { href: '/map?gateways=1' }, t('gw.onMap'))));
}
