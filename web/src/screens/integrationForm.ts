// The create / edit form shared by ChirpStack integrations (per organisation)
// and external MQTT broker integrations (per application). Field names are the
// API's (src/api/integrations.cc): the password is write-only (empty on edit =
// keep), `caCert` and the client certificate (mutual TLS; its key write-only
// like the password) are offered only for mqtts:// urls, and a 400/409 answer is
// shown in a role=alert box inside the form, the form kept as typed.
import { h, field, uid } from '../dom';
import { request, Application } from '../api';
import { t } from '../i18n';
import { notice, errorText, requireFilled } from '../ui';

export type Kind = 'chirpstack' | 'mqtt';
export interface Integration {
  id: number; orgId: number; name: string; url: string; username: string; hasPassword: boolean;
  clientId: string; enabled: boolean; caCert: string; clientCert: string; hasClientKey: boolean;
  status: string; lastError: string;
  statusSince?: string; createdAt?: string; updatedAt?: string;
  applicationId?: number; topicFilter?: string; deviceTopicLevel?: number; deviceMatch?: string;
}

const MATCHES = ['id', 'name', 'devEui'];
const isTls = (url: string) => /^mqtts:\/\//i.test(url.trim());

function check(id: string, label: string, checked: boolean): [HTMLInputElement, HTMLElement] {
  const box = h('input', { type: 'checkbox', id, checked });
  return [box, h('div', { class: 'field check' }, box, h('label', { for: id }, label))];
}

export interface FormOptions {
  kind: Kind; item: Integration | null; orgId: number; apps: Application[];
  onSaved: (saved: Integration) => void; onCancel: () => void;
}

export function integrationForm(o: FormOptions): HTMLElement {
  const { kind, item } = o;
  const input = (id: string, value: string, extra: Record<string, unknown> = {}) =>
    h('input', { type: 'text', id, autocomplete: 'off', spellcheck: 'false', value, ...extra });
  const name = input('int-name', item?.name ?? '', { required: true });
  const url = input('int-url', item?.url ?? '', { required: true, placeholder: 'mqtts://broker.example.dk:8883' });
  const username = input('int-username', item?.username ?? '');
  const password = h('input', { type: 'password', id: 'int-password', autocomplete: 'new-password', value: '' });
  const [pwClear, pwClearField] = check('int-password-clear', t('int.passwordClear'), false);
  const clientId = input('int-client-id', item?.clientId ?? '');
  const [enabled, enabledField] = check('int-enabled', t('int.enabled'), item ? item.enabled : true);
  const ca = h('textarea', { id: 'int-ca-cert', class: 'code', rows: '6', spellcheck: 'false',
    placeholder: '-----BEGIN CERTIFICATE-----' });
  ca.value = item?.caCert ?? '';
  const caField = field(t('int.caCert'), ca, t('int.caCertHint'));
  const pemArea = (id: string, placeholder: string) =>
    h('textarea', { id, class: 'code', rows: '6', spellcheck: 'false', autocomplete: 'off', placeholder });
  const cert = pemArea('int-client-cert', '-----BEGIN CERTIFICATE-----');
  cert.value = item?.clientCert ?? '';
  const key = pemArea('int-client-key', '-----BEGIN PRIVATE KEY-----');
  const certFields = h('div', null, field(t('int.clientCert'), cert, t('int.clientCertHint')),
    field(t('int.clientKey'), key, t(item?.hasClientKey ? 'int.clientKeyKeep' : 'int.clientKeyHint')));
  const showCa = () => { caField.hidden = certFields.hidden = !isTls(url.value); };
  url.addEventListener('input', showCa);
  showCa();

  const app = h('select', { id: 'int-app', disabled: Boolean(item) },
    o.apps.map((a) => h('option', { value: String(a.id) }, a.name)));
  if (item?.applicationId) app.value = String(item.applicationId);
  const topic = input('int-topic-filter', item?.topicFilter ?? '', { placeholder: 'sensors/+/data' });
  const level = h('input', { type: 'number', id: 'int-device-level', min: '0', max: '63', step: '1',
    value: String(item?.deviceTopicLevel ?? 1) });
  const match = h('select', { id: 'int-device-match' },
    MATCHES.map((m) => h('option', { value: m }, t(`int.match.${m}`))));
  match.value = item?.deviceMatch ?? 'id';
  const mqttFields = kind === 'mqtt' ? h('fieldset', null, h('legend', null, t('int.mapping')),
    h('div', { class: 'row' }, field(t('int.app'), app), field(t('int.topicFilter'), topic, t('int.topicFilterHint'))),
    h('div', { class: 'row' }, field(t('int.deviceTopicLevel'), level, t('int.deviceTopicLevelHint')),
      field(t('int.deviceMatch'), match))) : null;

  const errBox = h('div', { id: 'int-form-error', class: 'form-error' });
  const body = (): Record<string, unknown> => {
    const b: Record<string, unknown> = {
      name: name.value.trim(), url: url.value.trim(), username: username.value, enabled: enabled.checked,
    };
    if (password.value) b.password = password.value;
    else if (item?.hasPassword && pwClear.checked) b.password = null;
    if (clientId.value.trim()) b.clientId = clientId.value.trim();
    if (isTls(url.value)) b.caCert = ca.value.trim();
    else if (item?.caCert) b.caCert = ''; // a plain mqtt:// broker has no use for a CA
    const certPem = isTls(url.value) ? cert.value.trim() : '';
    if (certPem || item?.clientCert) b.clientCert = certPem;
    if (certPem && key.value.trim()) b.clientKey = key.value.trim();
    else if (!certPem && item?.hasClientKey) b.clientKey = null; // no certificate, no key
    if (kind === 'mqtt') {
      b.topicFilter = topic.value.trim();
      b.deviceTopicLevel = Number(level.value || 0);
      b.deviceMatch = match.value;
    }
    return b;
  };
  const titleId = uid('int-form-title');
  const save = h('button', { type: 'submit', id: 'int-save' }, t('form.save'));
  const form = h('form', {
    id: 'integration-form', class: 'card', 'aria-labelledby': titleId, 'aria-describedby': errBox.id,
    novalidate: true, 'data-edit': '',
    onsubmit: async (ev: Event) => {
      ev.preventDefault();
      errBox.replaceChildren();
      if (!requireFilled([name, url], errBox, t('int.required'))) return;
      save.disabled = true;
      try {
        const path = item ? `/api/v1/integrations/${kind}/${item.id}`
          : kind === 'chirpstack' ? `/api/v1/organizations/${o.orgId}/integrations/chirpstack`
            : `/api/v1/applications/${app.value}/integrations/mqtt`;
        o.onSaved(await request<Integration>(path, { method: item ? 'PATCH' : 'POST', body: body() }));
      } catch (e) {
        errBox.replaceChildren(notice(errorText(e), 'error'));
      } finally { save.disabled = false; }
    },
  },
  h('h3', { id: titleId }, item ? `${t('int.editTitle')}: ${item.name}` : t(`int.newTitle.${kind}`)),
  h('div', { class: 'row' }, field(t('form.name'), name), field(t('int.url'), url, t('int.urlHint'))),
  h('div', { class: 'row' }, field(t('int.username'), username),
    field(t('int.password'), password, t(item?.hasPassword ? 'int.passwordKeep' : 'int.passwordHint')),
    item?.hasPassword ? pwClearField : null),
  h('div', { class: 'row' }, field(t('int.clientId'), clientId, t('int.clientIdHint')), enabledField),
  caField, certFields, mqttFields, errBox,
  h('div', { class: 'actions' }, save,
    h('button', { type: 'button', class: 'secondary', onclick: o.onCancel }, t('form.cancel'))));
  return form;
}
