import { h, field } from '../dom';
import { decoderPicker } from '../decoderPicker';
import { contactsPanel } from '../contacts';
import { usersSection } from './adminUsers';
import { smsGatewaySection } from './smsGateway';
import { api, request, ApiError, Role, Member, Application } from '../api';
import { t, tEnum, fmtDate } from '../i18n';
import { state, isAdmin, canEdit } from '../state';
import { title, section, table, notice, errorText, loading, secretOnce } from '../ui';

const ROLES: Role[] = ['viewer', 'operator', 'editor', 'admin'];

function roleSelect(value: Role, label: string): HTMLSelectElement {
  const s = h('select', { 'aria-label': label }, ROLES.map((r) => h('option', { value: r }, t(`role.${r}`))));
  s.value = value;
  return s;
}

// The applications ticked, or null for the whole organisation (access per application).
interface AccessChoice { el: HTMLElement; value: () => number[] | null; show: (list: number[] | null) => void }

function accessChoice(apps: Application[], legend: string): AccessChoice {
  const whole = h('input', { type: 'checkbox', 'data-whole-org': '' }) as HTMLInputElement;
  const boxes = apps.map((a) => [a.id, h('input', { type: 'checkbox', value: String(a.id) }) as HTMLInputElement] as const);
  const show = (list: number[] | null) => {
    whole.checked = list === null;
    for (const [id, b] of boxes) { b.checked = list !== null && list.includes(id); b.disabled = list === null; }
  };
  whole.addEventListener('change', () => { for (const [, b] of boxes) b.disabled = whole.checked; });
  const el = h('fieldset', null, h('legend', null, legend),
    h('label', null, whole, ' ', t('admin.accessWhole')),
    ...boxes.map(([id, b]) => h('label', null, b, ' ', apps.find((a) => a.id === id)?.name ?? String(id))),
    h('p', { class: 'hint' }, t('admin.accessHint')));
  return { el, show, value: () => (whole.checked ? null : boxes.filter(([, b]) => b.checked).map(([id]) => id)) };
}

// Where a role holds, in words: the whole organisation, none, or the applications' names.
function accessText(list: number[] | null | undefined, apps: Application[]): string {
  if (list === null || list === undefined) return t('admin.accessWhole');
  if (list.length === 0) return t('admin.accessNone');
  return apps.filter((a) => list.includes(a.id)).map((a) => a.name).join(', ');
}

// Not for admins, who manage the whole organisation: hidden while the role is admin.
function hiddenForAdmin(box: HTMLElement, role: HTMLSelectElement): void {
  const lock = () => { box.hidden = role.value === 'admin'; };
  role.addEventListener('change', lock);
  lock();
}

// Where a member's role holds: the whole organisation, or the applications ticked (access per
// application; not for admins, who manage the whole organisation). Saved with the role.
function accessPicker(m: Member, apps: Application[], role: HTMLSelectElement, save: (a: number[] | null) => Promise<void>): HTMLElement {
  const summary = h('summary', null);
  const choice = accessChoice(apps, `${t('admin.access')}: ${m.name || m.email}`);
  const show = (list: number[] | null) => { choice.show(list); summary.textContent = accessText(list, apps); };
  const saveButton = h('button', {
    type: 'button', class: 'small',
    onclick: async () => {
      const list = choice.value();
      try { await save(list); m.applications = list; show(list); } catch { show(m.applications); }
    },
  }, t('form.save'));
  choice.el.appendChild(saveButton);
  const box = h('details', { class: 'member-access', 'data-member-access': String(m.userId) }, summary, choice.el);
  show(m.applications);
  hiddenForAdmin(box, role);
  return box;
}

// A member change the server refuses with 409: the organisation's last admin would go.
function memberError(e: unknown): string {
  return e instanceof ApiError && e.code === 'failed_precondition' ? t('admin.lastAdmin') : errorText(e);
}

function guarded(box: HTMLElement, fn: () => Promise<void>): Promise<void> {
  box.replaceChildren(loading());
  return fn().catch((e) => box.replaceChildren(notice(errorText(e), 'error')));
}

// What the organisation settings form reads and saves (GET/PATCH /api/v1/organizations/{id}).
interface OrgSettings {
  decoderTimeoutMs?: number;
  maxDevices: number | null;  // the organisation's own device limit; null: the server's
  deviceLimit: number;        // the limit in force
}

export async function adminScreen(root: HTMLElement): Promise<void> {
  root.appendChild(title(t('admin.title')));
  if (!isAdmin()) { root.appendChild(notice(t('admin.noAccess'), 'error')); return; }
  const orgId = state.orgId;
  const apps = h('div');
  const members = h('div');
  const keys = h('div');
  const audit = h('div');
  const settings = h('div', { id: 'org-settings' });
  root.append(section(t('admin.settings'), settings), section(t('admin.apps'), apps), section(t('admin.members'), members),
    section(t('admin.apiKeys'), keys), section(t('admin.audit'), audit));
  root.appendChild(section(t('sms.title'), smsGatewaySection(orgId)));
  // The server's accounts: global admins only.
  if (state.session?.user.globalAdmin) {
    root.appendChild(section(t('users.title'), h('p', { class: 'hint' }, t('users.hint')), usersSection()));
  }

  const drawApps = () => guarded(apps, async () => {
    const list = await api.apps(orgId);
    const name = h('input', { type: 'text', required: true, autocomplete: 'off' });
    const desc = h('input', { type: 'text', autocomplete: 'off' });
    const msg = h('div', { 'aria-live': 'polite' });
    apps.replaceChildren(
      table(t('admin.apps'), [t('devices.name'), t('admin.description'), t('decoder.label'), t('admin.actions')],
        list.map((a) => [a.name, a.description,
          decoderPicker(orgId, `/api/v1/applications/${a.id}`, `${t('decoder.label')}: ${a.name}`, t('decoder.none'), canEdit()),
          canEdit() ? h('button', {
          type: 'button', class: 'danger small', 'data-edit': '', 'aria-label': `${t('admin.delete')} ${a.name}`,
          onclick: async () => {
            if (!confirm(t('admin.confirmDelete', { name: a.name }))) return;
            try { await api.deleteApp(a.id); state.data = null; drawApps(); } catch (e) { msg.replaceChildren(notice(errorText(e), 'error')); }
          },
        }, t('admin.delete')) : ''])),
      msg,
      // Each application's responsible contacts (inherited by its devices).
      h('details', { id: 'app-contacts' }, h('summary', null, t('contacts.title')),
        ...list.map((a) => h('div', null, h('h3', null, a.name),
          contactsPanel(`/api/v1/applications/${a.id}/contacts`, `${t('contacts.title')}: ${a.name}`)))),
      h('form', {
        class: 'inline', 'data-edit': '',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          try { await api.createApp(orgId, { name: name.value.trim(), description: desc.value.trim() }); state.data = null; drawApps(); } catch (err) { msg.replaceChildren(notice(errorText(err), 'error')); }
        },
      }, field(t('devices.name'), name), field(t('admin.description'), desc), h('button', { type: 'submit' }, t('admin.add'))));
  });

  const drawMembers = () => guarded(members, async () => {
    const [list, pending, appList] = await Promise.all([api.members(orgId), api.invitations(orgId).catch(() => []), api.apps(orgId)]);
    const msg = h('div', { 'aria-live': 'polite' });
    const email = h('input', { type: 'email', required: true, autocomplete: 'off', id: 'invite-email' });
    const role = roleSelect('viewer', t('admin.role'));
    // An invitation to some applications only: the access the member gets on accepting.
    const inviteAccess = accessChoice(appList, t('admin.inviteAccess'));
    inviteAccess.show(null);
    const inviteAccessBox = h('details', { class: 'member-access', id: 'invite-access' },
      h('summary', null, t('admin.access')), inviteAccess.el);
    hiddenForAdmin(inviteAccessBox, role);
    members.replaceChildren(msg, table(t('admin.members'), [t('devices.name'), t('admin.email'), t('admin.role'), t('admin.access'), t('admin.actions')],
      list.map((m) => {
        const who = m.name || m.email;
        const sel = roleSelect(m.role, `${t('admin.role')}: ${who}`);
        // The role and the applications are one PUT: each change sends both.
        const put = async (role: Role, apps: number[] | null) => {
          try {
            await api.setRole(orgId, m.userId, role, role === 'admin' ? null : apps);
            m.role = role;
            if (role === 'admin') m.applications = null;
            msg.replaceChildren(notice(t('form.saved'), 'ok'));
          } catch (e) { msg.replaceChildren(notice(memberError(e), 'error')); throw e; }
        };
        sel.addEventListener('change', () => { put(sel.value as Role, m.applications).catch(() => { sel.value = m.role; }); });
        const access = accessPicker(m, appList, sel, (apps) => put(sel.value as Role, apps));
        // The server refuses to remove (or demote) the organisation's last admin (409).
        const remove = h('button', {
          type: 'button', class: 'danger small', 'data-remove-member': String(m.userId), 'aria-label': `${t('admin.removeMember')}: ${who}`,
          onclick: async () => {
            if (!confirm(t('admin.confirmRemoveMember', { name: who }))) return;
            try {
              await api.removeMember(orgId, m.userId);
              if (m.userId === state.session?.user.id) { location.assign('/'); return; }  // removed oneself
              await drawMembers();
              members.prepend(notice(t('admin.memberRemoved', { name: who }), 'ok'));
            } catch (e) { msg.replaceChildren(notice(memberError(e), 'error')); }
          },
        }, t('admin.removeMember'));
        return [m.name, m.email, sel, access, remove];
      })),
      ...(pending.length === 0 ? [] : [table(t('admin.invitations'), [t('admin.email'), t('admin.role'), t('admin.access'), t('admin.expires'), t('admin.actions')],
        pending.map((i) => [i.email, t(`role.${i.role}`), accessText(i.applications, appList), fmtDate(i.expiresAt), h('button', {
          type: 'button', class: 'danger small', 'aria-label': `${t('admin.revoke')} ${i.email}`,
          onclick: async () => {
            try { await api.revokeInvitation(orgId, i.id); drawMembers(); } catch (e) { msg.replaceChildren(notice(errorText(e), 'error')); }
          },
        }, t('admin.revoke'))]))]),
      h('form', {
        class: 'inline', id: 'invite-form',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          const apps = role.value === 'admin' ? null : inviteAccess.value();
          try { await api.invite(orgId, email.value.trim(), role.value as Role, apps); await drawMembers(); members.prepend(notice(t('admin.invited'), 'ok')); } catch (err) { msg.replaceChildren(notice(errorText(err), 'error')); }
        },
      }, field(t('admin.email'), email), field(t('admin.role'), role), inviteAccessBox, h('button', { type: 'submit' }, t('admin.invite'))));
  });

  const drawKeys = () => guarded(keys, async () => {
    const list = await api.apiKeys(orgId);
    const name = h('input', { type: 'text', required: true, autocomplete: 'off' });
    const role = roleSelect('viewer', t('admin.role'));
    const expires = h('input', { type: 'date' });
    const msg = h('div', { 'aria-live': 'polite' });
    keys.replaceChildren(
      msg,
      list.length === 0 ? h('p', null, t('admin.noKeys')) : table(t('admin.apiKeys'),
        [t('admin.keyName'), t('admin.role'), t('admin.expires'), t('admin.actions')],
        list.map((k) => [k.name, t(`role.${k.role}`), fmtDate(k.expiresAt ?? null), h('div', { class: 'row' }, h('button', {
          type: 'button', class: 'secondary small', 'data-edit': '', 'data-rotate-key': String(k.id), 'aria-label': `${t('admin.rotateKey')}: ${k.name}`,
          onclick: async () => {
            if (!confirm(t('admin.confirmRotateKey', { name: k.name }))) return;
            try {
              const rotated = await api.rotateApiKey(k.id);
              await drawKeys();
              // Shown once: rendered after the list redraw, never stored.
              keys.prepend(secretOnce(t('admin.rotatedOnce', { name: k.name }), rotated.key ?? '', 'new-api-key'));
            } catch (e) { msg.replaceChildren(notice(errorText(e), 'error')); }
          },
        }, t('admin.rotateKey')), h('button', {
          type: 'button', class: 'danger small', 'data-edit': '', 'aria-label': `${t('admin.delete')} ${k.name}`,
          onclick: async () => {
            if (!confirm(t('admin.confirmDelete', { name: k.name }))) return;
            try { await api.deleteApiKey(k.id); drawKeys(); } catch (e) { msg.replaceChildren(notice(errorText(e), 'error')); }
          },
        }, t('admin.delete')))])),
      h('form', {
        class: 'inline', 'data-edit': '', id: 'api-key-form',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          try {
            const created = await api.createApiKey(orgId, {
              name: name.value.trim(), role: role.value as Role,
              expiresAt: expires.value ? new Date(`${expires.value}T23:59:59`).toISOString() : undefined,
            });
            await drawKeys();
            // Shown once: rendered after the list redraw, never stored.
            keys.prepend(secretOnce(t('admin.keyOnce'), created.key ?? '', 'new-api-key'));
          } catch (err) { msg.replaceChildren(notice(errorText(err), 'error')); }
        },
      }, field(t('admin.keyName'), name), field(t('admin.role'), role), field(t('admin.expires'), expires),
      h('button', { type: 'submit' }, t('admin.add'))));
  });

  const drawAudit = () => guarded(audit, async () => {
    const page = await api.audit(orgId);
    audit.replaceChildren(page.items.length === 0 ? h('p', null, t('admin.noAudit')) : table(t('admin.audit'),
      [t('device.time'), t('admin.action'), t('admin.object'), t('admin.user'), t('admin.address'), t('admin.detail')],
      page.items.map((a) => [fmtDate(a.ts), tEnum('auditAction', a.action), `${tEnum('auditObject', a.objectType)} ${a.objectId}`, a.userId ? String(a.userId) : '–',
        a.remoteAddr ?? '', a.detail ?? '']), 'audit'));
  });

  // Organisation settings (admins): the time limit of this organisation's payload decoders, and
  // how many devices it has of how many it may have; a global admin sets that limit (maxDevices,
  // empty: the server's).
  const drawSettings = () => guarded(settings, async () => {
    const [org, devices] = await Promise.all([
      request<OrgSettings>(`/api/v1/organizations/${orgId}`),
      request<{ total: number }>(`/api/v1/organizations/${orgId}/devices?limit=1`),
    ]);
    const limit = h('input', {
      type: 'number', id: 'org-decoder-timeout', min: '1', max: '5000', step: '1', required: true,
      value: String(org.decoderTimeoutMs ?? ''),
    });
    const usage = h('p', { id: 'org-device-usage' });
    const showUsage = (deviceLimit: number) =>
      usage.replaceChildren(t('admin.deviceUsage', { count: devices.total, limit: deviceLimit }));
    showUsage(org.deviceLimit);
    const global = state.session?.user.globalAdmin === true;
    const maxDevices = h('input', {
      type: 'number', id: 'org-max-devices', min: '0', step: '1',
      value: org.maxDevices == null ? '' : String(org.maxDevices),
    });
    const msg = h('div', { 'aria-live': 'polite', id: 'org-settings-msg' });
    // What the form would send, or null (the field marked, the reason shown) when a value is wrong.
    const body = (): Record<string, number | null> | null => {
      const ms = Number(limit.value);
      const wrongMs = !limit.value || !Number.isInteger(ms) || ms < 1 || ms > 5000;
      const max = maxDevices.value === '' ? null : Number(maxDevices.value);
      const wrongMax = global && max !== null && (!Number.isInteger(max) || max < 0);
      for (const [input, wrong] of [[limit, wrongMs], [maxDevices, wrongMax]] as const) {
        if (wrong) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
      }
      if (wrongMs || wrongMax) {
        msg.replaceChildren(notice(t(wrongMs ? 'admin.decoderTimeoutRange' : 'admin.maxDevicesRange'), 'error'));
        (wrongMs ? limit : maxDevices).focus();
        return null;
      }
      return global ? { decoderTimeoutMs: ms, maxDevices: max } : { decoderTimeoutMs: ms };
    };
    settings.replaceChildren(usage, h('form', {
      class: 'inline', 'data-edit': '', id: 'org-settings-form', novalidate: true,
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const changes = body();
        if (!changes) return;
        try {
          const saved = await request<OrgSettings>(`/api/v1/organizations/${orgId}`,
            { method: 'PATCH', body: changes });
          limit.value = String(saved.decoderTimeoutMs ?? changes.decoderTimeoutMs);
          maxDevices.value = saved.maxDevices == null ? '' : String(saved.maxDevices);
          showUsage(saved.deviceLimit);
          msg.replaceChildren(notice(t('form.saved'), 'ok'));
        } catch (err) { msg.replaceChildren(notice(errorText(err), 'error')); }
      },
    }, field(t('admin.decoderTimeout'), limit, t('admin.decoderTimeoutHint')),
    global ? field(t('admin.maxDevices'), maxDevices, t('admin.maxDevicesHint')) : null,
    h('button', { type: 'submit', id: 'org-settings-save' }, t('form.save')), msg));
  });

  drawSettings(); drawApps(); drawMembers(); drawKeys(); drawAudit();
}
