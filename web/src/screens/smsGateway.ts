// The organisation's SMS gateway (issue 20; admins, in the administration): the HTTP API of a
// Danish SMS provider — URL, POST or GET, headers, a form or JSON body with {{to}}, {{message}}
// and {{secret}} — that "SMS" and "notify the responsible contacts" actions use. The secret is
// write-only: the server answers only whether one is set. "Send test" sends one SMS now and shows
// the gateway's answer.
import { h, field } from '../dom';
import { optional, request } from '../api';
import { t } from '../i18n';
import { notice, errorText, loading } from '../ui';

interface SmsGateway {
  url: string; method: 'POST' | 'GET'; headers: Record<string, string>; bodyFormat: 'form' | 'json';
  body: string; hasSecret: boolean;
}

// "Name: value" lines as headers; a line without ":" is an error naming it.
function parseHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const at = line.indexOf(':');
    if (at <= 0) throw new Error(t('sms.badHeader', { line }));
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

export function smsGatewaySection(orgId: number): HTMLElement {
  const box = h('div', { id: 'sms-gateway' }, loading());
  const path = `/api/v1/organizations/${orgId}/sms-gateway`;
  const draw = async (): Promise<void> => {
    let g: SmsGateway | null;
    try { g = await optional<SmsGateway>(path); } catch (e) { box.replaceChildren(notice(errorText(e), 'error')); return; }
    const msg = h('div', { 'aria-live': 'polite', id: 'sms-msg' });
    const url = h('input', { type: 'url', id: 'sms-url', required: true, value: g?.url ?? '', placeholder: 'https://sms.example.dk/send' }) as HTMLInputElement;
    const method = h('select', { id: 'sms-method' }, h('option', { value: 'POST' }, 'POST'), h('option', { value: 'GET' }, 'GET')) as HTMLSelectElement;
    method.value = g?.method ?? 'POST';
    const format = h('select', { id: 'sms-format' }, h('option', { value: 'form' }, t('sms.form')), h('option', { value: 'json' }, 'JSON')) as HTMLSelectElement;
    format.value = g?.bodyFormat ?? 'form';
    const body = h('textarea', { id: 'sms-body', class: 'code', rows: '3', spellcheck: 'false' }) as HTMLTextAreaElement;
    body.value = g?.body ?? 'to={{to}}&text={{message}}';
    const headers = h('textarea', { id: 'sms-headers', class: 'code', rows: '2', spellcheck: 'false', placeholder: 'Authorization: Bearer {{secret}}' }) as HTMLTextAreaElement;
    headers.value = Object.entries(g?.headers ?? {}).map(([k, v]) => `${k}: ${v}`).join('\n');
    const secret = h('input', {
      type: 'password', id: 'sms-secret', autocomplete: 'new-password',
      placeholder: g?.hasSecret ? t('sms.secretKept') : '',
    }) as HTMLInputElement;
    const save = async (e: Event) => {
      e.preventDefault();
      try {
        const b: Record<string, unknown> = {
          url: url.value.trim(), method: method.value, bodyFormat: format.value, body: body.value, headers: parseHeaders(headers.value),
        };
        if (secret.value) b.secret = secret.value;  // absent: the stored secret stays
        await request(path, { method: 'PUT', body: b });
        await draw();
        box.prepend(notice(t('form.saved'), 'ok'));
      } catch (err) { msg.replaceChildren(notice(err instanceof Error && !('status' in err) ? err.message : errorText(err), 'error')); }
    };
    const to = h('input', { type: 'tel', id: 'sms-test-to', placeholder: '+4512345678', autocomplete: 'off' }) as HTMLInputElement;
    const testResult = h('div', { 'aria-live': 'polite', id: 'sms-test-result' });
    const test = async () => {
      try {
        const r = await request<{ ok: boolean; httpStatus: number; error: string | null }>(`${path}/test`, { method: 'POST', body: { to: to.value.trim() } });
        testResult.replaceChildren(notice(r.ok ? t('sms.testSent', { status: String(r.httpStatus) }) : t('sms.testFailed', { error: r.error ?? '' }), r.ok ? 'ok' : 'error'));
      } catch (err) { testResult.replaceChildren(notice(errorText(err), 'error')); }
    };
    const remove = async () => {
      if (!confirm(t('sms.confirmDelete'))) return;
      try { await request(path, { method: 'DELETE' }); await draw(); } catch (err) { msg.replaceChildren(notice(errorText(err), 'error')); }
    };
    box.replaceChildren(msg,
      h('form', { class: 'form', id: 'sms-form', onsubmit: save },
        field(t('sms.url'), url, t('sms.urlHint')), field(t('sms.method'), method), field(t('sms.format'), format),
        field(t('sms.body'), body, t('sms.placeholders')), field(t('sms.headers'), headers, t('sms.headersHint')),
        field(t('sms.secret'), secret, t('sms.secretHint')),
        h('div', { class: 'row' }, h('button', { type: 'submit', id: 'sms-save' }, t('form.save')),
          g ? h('button', { type: 'button', class: 'danger', id: 'sms-delete', onclick: () => void remove() }, t('admin.delete')) : null)),
      ...(g ? [h('div', { class: 'row' }, field(t('sms.testTo'), to),
        h('button', { type: 'button', class: 'secondary', id: 'sms-test', onclick: () => void test() }, t('sms.test')))] : []),
      testResult);
  };
  void draw();
  return box;
}
