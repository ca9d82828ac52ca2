// Which decoder an application or a device uses, chosen in the UI (issue 21: "a decoder cannot
// be attached to a device or application from the UI"). A select of the organisation's decoders
// and "none" (for a device: its application's decoder applies); a change is saved at once
// (`PUT .../decoder`) and said in a live region. Read-only for viewers.
import { h } from './dom';
import { optional, request, Page } from './api';
import { t } from './i18n';
import { notice, errorText } from './ui';

interface DecoderRef { id: number; name: string }

const cache = new Map<number, Promise<DecoderRef[]>>();

// The organisation's decoders (read once per page load and organisation).
export function orgDecoders(orgId: number): Promise<DecoderRef[]> {
  let p = cache.get(orgId);
  if (!p) {
    p = optional<Page<DecoderRef>>(`/api/v1/organizations/${orgId}/decoders?limit=500`)
      .then((page) => page?.items ?? []).catch(() => []);
    cache.set(orgId, p);
  }
  return p;
}

// `path` is `/api/v1/devices/{id}` or `/api/v1/applications/{id}`; `label` names the select
// for screen readers; `noneText` is the "no decoder of its own" choice.
export function decoderPicker(orgId: number, path: string, label: string, noneText: string,
  editable: boolean): HTMLElement {
  const sel = h('select', { 'aria-label': label, 'data-decoder-for': path, disabled: !editable });
  const msg = h('span', { 'aria-live': 'polite', class: 'picker-msg' });
  const box = h('span', { class: 'decoder-picker' }, sel, msg);
  void (async () => {
    const [decoders, current] = await Promise.all([
      orgDecoders(orgId),
      optional<{ decoderId: number | null }>(`${path}/decoder`).catch(() => null),
    ]);
    sel.replaceChildren(h('option', { value: '' }, noneText),
      ...decoders.map((d) => h('option', { value: String(d.id) }, d.name)));
    sel.value = current?.decoderId ? String(current.decoderId) : '';
    sel.dataset.loaded = 'true';
  })();
  sel.addEventListener('change', async () => {
    try {
      await request(`${path}/decoder`, { method: 'PUT', body: { decoderId: sel.value ? Number(sel.value) : null } });
      msg.replaceChildren(notice(t('decoder.attached'), 'ok'));
    } catch (e) { msg.replaceChildren(notice(errorText(e), 'error')); }
  });
  return box;
}
