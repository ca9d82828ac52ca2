// What the comparison screen, the overview's health tiles and the device list read from a
// device's latest values: which key is its CO₂, temperature, humidity, battery or signal, whether
// a value breaks the limits of the rules that watch the device, and whether its battery is low.
import { optional, AppLatest, Page } from './api';
import { RuleForChart, RuleLimit, breaches, ruleLimits } from './chart';
import type { DeviceRow } from './state';

export interface LatestValue { key: string; value: unknown; ts: string; unit?: string }

// The columns the comparison shows: each finds its key among a device's latest values by name
// (the first pattern that matches one wins), since models name the same quantity differently.
export type Quantity = 'co2' | 'temperature' | 'humidity' | 'battery' | 'rssi' | 'snr';
export const QUANTITIES: Array<{ q: Quantity; patterns: RegExp[] }> = [
  { q: 'co2', patterns: [/^co2$/i, /co2/i] },
  { q: 'temperature', patterns: [/^temp(erature)?$/i, /^(air_)?temp/i, /temp/i] },
  { q: 'humidity', patterns: [/^(relative)?humidity$/i, /^(rh|hum)$/i, /humid/i] },
  { q: 'battery', patterns: [/^bat(tery)?(level)?$/i, /^bat/i, /bat/i] },
  { q: 'rssi', patterns: [/rssi/i] },
  { q: 'snr', patterns: [/snr/i] },
];

// The keys that may hold a quantity among a set of keys, best first; devices of one model have
// the same keys, so this is worked out once per set (a table of 1,000 devices asks 6,000 times).
const candidates = new Map<string, string[]>();
function keysFor(keys: string[], q: Quantity): string[] {
  const sig = `${q}\u0000${keys.join('\u0000')}`;
  let out = candidates.get(sig);
  if (!out) {
    const spec = QUANTITIES.find((x) => x.q === q);
    out = [];
    for (const re of spec?.patterns ?? []) for (const k of keys) if (re.test(k) && !out.includes(k)) out.push(k);
    if (candidates.size > 1000) candidates.clear();
    candidates.set(sig, out);
  }
  return out;
}

// The device's latest value of a quantity (numbers only), or null.
export function valueOf(latest: AppLatest | undefined, q: Quantity): LatestValue | null {
  if (!latest) return null;
  const key = keysFor(Object.keys(latest.readings), q).find((k) => typeof latest.readings[k].value === 'number');
  return key ? { key, ...latest.readings[key] } : null;
}

// The organisation's rules (for limits and thresholds): none when the caller may not list them
// or the server has no rules. Read afresh (a screen shows the rules as they are now), one request
// for concurrent callers; `reuse` takes the last answer instead (the overview's live redraws).
const rulesCache = new Map<number, Promise<RuleForChart[]>>();
const rulesInFlight = new Set<number>();
export function orgRules(orgId: number, reuse = false): Promise<RuleForChart[]> {
  const last = rulesCache.get(orgId);
  if (last && (reuse || rulesInFlight.has(orgId))) return last;
  rulesInFlight.add(orgId);
  const p = optional<Page<RuleForChart>>(`/api/v1/organizations/${orgId}/rules?limit=500`)
    .then((page) => page?.items ?? [], () => [])
    .finally(() => rulesInFlight.delete(orgId));
  rulesCache.set(orgId, p);
  return p;
}

export type Level = 'critical' | 'warning' | 'info' | 'ok' | null;
const LEVEL_ORDER: Record<string, number> = { critical: 3, warning: 2, info: 1 };

// How a value stands against the limits: the severity of the worst rule it breaches, 'ok' when
// it breaches none of them, null when no rule sets a limit on it.
export function levelOf(value: number, limits: RuleLimit[]): { level: Level; rule?: string } {
  if (!limits.length) return { level: null };
  let worst: RuleLimit | undefined;
  for (const l of limits) {
    if (breaches(value, l) && (!worst || (LEVEL_ORDER[l.severity] ?? 0) > (LEVEL_ORDER[worst.severity] ?? 0))) worst = l;
  }
  if (!worst) return { level: 'ok' };
  const level = (['critical', 'warning', 'info'].includes(worst.severity) ? worst.severity : 'warning') as Level;
  return { level, rule: worst.rule };
}

// A battery is low when it breaches a rule's limit on its key; with no such rule, below 20 %
// (a percentage) or 3.0 V (a key or unit in volts).
export const LOW_BATTERY_PERCENT = 20;
export const LOW_BATTERY_VOLTS = 3.0;
export function isLowBattery(b: LatestValue | null, row: DeviceRow, rules: RuleForChart[]): boolean {
  if (!b || typeof b.value !== 'number') return false;
  const limits = ruleLimits(rules, row.d, b.key);
  if (limits.length) return limits.some((l) => breaches(b.value as number, l));
  const volts = /^v$/i.test(b.unit ?? '') || /volt|vdd/i.test(b.key);
  return b.value < (volts ? LOW_BATTERY_VOLTS : LOW_BATTERY_PERCENT);
}

export interface AppHealth { devices: number; silent: number; alarm: number; lowBattery: number }

// The health tiles of one application.
export function appHealth(rows: DeviceRow[], latest: Map<number, AppLatest>, rules: RuleForChart[]): AppHealth {
  const out: AppHealth = { devices: rows.length, silent: 0, alarm: 0, lowBattery: 0 };
  for (const r of rows) {
    if (r.status === 'silent') out.silent += 1;
    if (r.status === 'alarm') out.alarm += 1;
    if (isLowBattery(valueOf(latest.get(r.d.id), 'battery'), r, rules)) out.lowBattery += 1;
  }
  return out;
}
