// The logged-in user's pending invitations, shown above every screen with Accept / Decline.
// Accepting reloads the page so the new organisation appears.
import { h } from './dom';
import { api, Invitation } from './api';
import { t } from './i18n';
import { notice, errorText } from './ui';

function row(i: Invitation, box: HTMLElement): HTMLElement {
  const answer = async (a: 'accept' | 'decline') => {
    try {
      await api.answerInvitation(i.id, a);
      if (a === 'accept') location.reload();
      else box.remove();
    } catch (e) { box.replaceChildren(notice(errorText(e), 'error')); }
  };
  return h('div', { class: 'notice info invitation', role: 'status' },
    h('span', null, t(i.applications ? 'invite.pendingApps' : 'invite.pending',
      { org: i.orgName ?? String(i.orgId), role: t(`role.${i.role}`), count: String(i.applications?.length ?? 0) })), ' ',
    h('button', { type: 'button', class: 'small', onclick: () => answer('accept') }, t('invite.accept')), ' ',
    h('button', { type: 'button', class: 'secondary small', onclick: () => answer('decline') }, t('invite.decline')));
}

// Prepends the caller's pending invitations to `main` (nothing when there are none or on error).
export async function showInvitations(main: HTMLElement): Promise<void> {
  let list: Invitation[];
  try { list = await api.myInvitations(); } catch { return; }
  for (const i of list.reverse()) {
    const box = h('div');
    box.appendChild(row(i, box));
    main.prepend(box);
  }
}
