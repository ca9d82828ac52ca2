// Danish and English. The dictionary files hold every visible text; dates and
// numbers are formatted with Intl in the chosen language's locale.
import da from './i18n/da.json';
import en from './i18n/en.json';

export type Lang = 'da' | 'en';
type Dict = Record<string, string>;
const dicts: Record<Lang, Dict> = { da, en };
const STORAGE_KEY = 'bysans.lang';

function initialLang(): Lang {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === 'da' || saved === 'en') return saved;
  for (const l of navigator.languages ?? [navigator.language]) {
    const base = l.toLowerCase().slice(0, 2);
    if (base === 'da' || base === 'nb' || base === 'no') return 'da';
    if (base === 'en') return 'en';
  }
  return 'da';
}

let lang: Lang = initialLang();
const listeners: Array<() => void> = [];

export function getLang(): Lang { return lang; }
export function locale(): string { return lang === 'da' ? 'da-DK' : 'en-GB'; }

export function setLang(l: Lang): void {
  lang = l;
  localStorage.setItem(STORAGE_KEY, l);
  document.documentElement.lang = l;
  for (const fn of listeners) fn();
}
export function onLangChange(fn: () => void): void { listeners.push(fn); }

export function t(key: string, vars?: Record<string, string | number>): string {
  let s = dicts[lang][key] ?? dicts.en[key] ?? key;
  if (vars) {
    for (const [k, v] of Object.entries(vars)) {
      s = s.replace(`{${k}}`, typeof v === 'number' ? fmtNum(v) : v);
    }
  }
  return s;
}

// A value the API enumerates (severity, alarmState, quality, decodeStatus, transport,
// auditAction) in the UI's language: the catalogue's `<group>.<value>`; a value the catalogue
// does not know (a newer server) is shown as it is.
export function tEnum(group: string, value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '';
  const key = `${group}.${value}`;
  return dicts[lang][key] ?? dicts.en[key] ?? value;
}

const numFmt = new Map<string, Intl.NumberFormat>();
export function fmtNum(n: number, digits = 2): string {
  const k = `${lang}:${digits}`;
  let f = numFmt.get(k);
  if (!f) { f = new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }); numFmt.set(k, f); }
  return f.format(n);
}

export function fmtValue(v: unknown): string {
  if (typeof v === 'number') return fmtNum(v);
  if (typeof v === 'boolean') return t(v ? 'value.true' : 'value.false');
  if (v === null || v === undefined) return '–';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

// Intl formatters are slow to make (a table of 1,000 rows would spend most of its time on them):
// one of each per language.
const dateFmt = new Map<string, Intl.DateTimeFormat>();
const agoFmt = new Map<string, Intl.RelativeTimeFormat>();

export function fmtDate(ts: string | number | Date | null | undefined): string {
  if (ts === null || ts === undefined || ts === '') return '–';
  const d = ts instanceof Date ? ts : new Date(ts);
  if (Number.isNaN(d.getTime())) return String(ts);
  let f = dateFmt.get(lang);
  if (!f) { f = new Intl.DateTimeFormat(locale(), { dateStyle: 'short', timeStyle: 'medium' }); dateFmt.set(lang, f); }
  return f.format(d);
}

export function fmtAgo(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  let rtf = agoFmt.get(lang);
  if (!rtf) { rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' }); agoFmt.set(lang, rtf); }
  const s = Math.round((ms - Date.now()) / 1000);
  const a = Math.abs(s);
  if (a < 60) return rtf.format(s, 'second');
  if (a < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (a < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  return rtf.format(Math.round(s / 86400), 'day');
}

document.documentElement.lang = lang;
