// What a reading's key is called on screen (issue 21: `co2`, `batteryLevel`, `lorawan.fcnt` are
// names for machines). In order: the device model's own name for the key in the UI's language
// (`"x-bysans-keys": {"fall": {"name": {"da": "Fald", "en": "Fall"}}}` in its document), the
// catalogue's name for common keys (`key.<key>`), else the key as it is. Keys of the radio and the
// transport (LoRaWAN counters, signal) are "technical details", shown apart.
import { getLang, t } from './i18n';

export type KeyNames = Record<string, Record<string, string>>;

// The names a device model's document gives its keys, per language.
export function modelKeyNames(doc: unknown): KeyNames {
  const out: KeyNames = {};
  if (!doc || typeof doc !== 'object') return out;
  const keys = (doc as Record<string, unknown>)['x-bysans-keys'];
  if (!keys || typeof keys !== 'object') return out;
  for (const [key, spec] of Object.entries(keys as Record<string, unknown>)) {
    const name = spec && typeof spec === 'object' ? (spec as Record<string, unknown>).name : undefined;
    if (!name || typeof name !== 'object') continue;
    const names: Record<string, string> = {};
    for (const [lang, text] of Object.entries(name as Record<string, unknown>)) {
      if (typeof text === 'string' && text.trim()) names[lang] = text.trim();
    }
    out[key] = names;
  }
  return out;
}

export function keyLabel(key: string, names?: KeyNames): string {
  const own = names?.[key];
  if (own) {
    const text = own[getLang()] ?? own.en ?? own.da;
    if (text) return text;
  }
  const common = t(`key.${key}`);
  return common === `key.${key}` ? key : common;
}

// Radio and transport bookkeeping: LoRaWAN's keys and signal figures.
export function isTechnicalKey(key: string): boolean {
  return key.startsWith('lorawan.') || /^(rssi|snr|fcnt|f_cnt|fport|f_port|dr|sf|frequency)$/i.test(key);
}
