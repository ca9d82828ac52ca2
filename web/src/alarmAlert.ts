// A sound and a desktop notification when a critical alarm is raised (issue 21: the care team
// must not miss a fall). Off until the user turns it on (a choice per browser, kept in
// localStorage); turning it on asks the browser for permission to notify. Fed by the
// organisation's live stream, on every screen.
import { h } from './dom';
import { t } from './i18n';
import { onLive, state } from './state';

const STORAGE_KEY = 'bysans.criticalAlerts';

export function criticalAlertsOn(): boolean {
  return localStorage.getItem(STORAGE_KEY) === 'on';
}

async function setCriticalAlerts(on: boolean): Promise<void> {
  localStorage.setItem(STORAGE_KEY, on ? 'on' : 'off');
  if (on && 'Notification' in window && Notification.permission === 'default') {
    await Notification.requestPermission();
  }
}

// A short two-tone signal (no file to load: WebAudio).
function chime(): void {
  try {
    const ctx = new AudioContext();
    const gain = ctx.createGain();
    gain.gain.value = 0.2;
    gain.connect(ctx.destination);
    [880, 660].forEach((hz, i) => {
      const osc = ctx.createOscillator();
      osc.frequency.value = hz;
      osc.connect(gain);
      osc.start(ctx.currentTime + i * 0.25);
      osc.stop(ctx.currentTime + i * 0.25 + 0.2);
    });
    window.setTimeout(() => void ctx.close(), 1000);
  } catch { /* no audio device: the notification still shows */ }
}

onLive((ev) => {
  if (ev.type !== 'alarm' || !criticalAlertsOn()) return;
  const a = ev.data as { event?: string; id?: number; deviceId?: number; severity?: string; message?: string };
  if (a.event !== 'raised' || a.severity !== 'critical') return;
  chime();
  if ('Notification' in window && Notification.permission === 'granted') {
    new Notification(t('alarms.criticalTitle'), {
      body: [a.deviceId ? state.data?.byId.get(a.deviceId)?.d.name : '', a.message].filter(Boolean).join(': '),
      tag: `bysans-alarm-${a.id ?? ''}`,
    });
  }
});

// The switch on the alarm screen.
export function criticalAlertsSwitch(): HTMLElement {
  const box = h('input', { type: 'checkbox', id: 'critical-alerts', checked: criticalAlertsOn() });
  box.addEventListener('change', () => void setCriticalAlerts(box.checked));
  return h('div', { class: 'field check' }, box, h('label', { for: 'critical-alerts' }, t('alarms.criticalAlerts')));
}
