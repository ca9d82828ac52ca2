// What a time chart needs beyond uPlot's defaults so that Danes read it as they read a clock
// (issue 21, "charts Danes read"): 24-hour times and day.month dates in Europe/Copenhagen
// whatever the browser's zone, gaps in the data drawn as breaks (a 5-hour outage is not a
// straight line), and the thresholds of the rules that watch the key. Pure functions: the
// device page draws with them and exposes their results for the browser tests.

export const CHART_TIME_ZONE = 'Europe/Copenhagen';

const DAY_S = 86_400;

interface ZonedParts { year: number; month: number; day: number; hour: number; minute: number }

const partsFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: CHART_TIME_ZONE, hourCycle: 'h23',
  year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric',
});

function zonedParts(epochS: number): ZonedParts {
  const out: ZonedParts = { year: 0, month: 0, day: 0, hour: 0, minute: 0 };
  for (const p of partsFormat.formatToParts(new Date(epochS * 1000))) {
    if (p.type in out) out[p.type as keyof ZonedParts] = Number(p.value);
  }
  return out;
}

const two = (n: number) => String(n).padStart(2, '0');

// The labels of the time axis' ticks. `incrS` is uPlot's spacing of the ticks in seconds:
// below a day a tick shows "HH:mm", with the date ("d.M") under it at the first tick and at
// each midnight; a day or more shows "d.M"; a month or more "M.yyyy". The year is added to the
// first tick's date when the ticks span more than one year.
export function timeAxisLabels(ticksS: number[], incrS: number): string[] {
  const parts = ticksS.map(zonedParts);
  const years = new Set(parts.map((p) => p.year));
  return parts.map((p, i) => {
    const date = `${p.day}.${p.month}` + (years.size > 1 && (i === 0 || p.year !== parts[i - 1].year) ? `.${p.year}` : '');
    if (incrS >= 28 * DAY_S) return `${p.month}.${p.year}`;
    if (incrS >= DAY_S) return date;
    const time = `${two(p.hour)}:${two(p.minute)}`;
    const newDay = i === 0 || p.day !== parts[i - 1].day || p.month !== parts[i - 1].month;
    return newDay ? `${time}\n${date}` : time;
  });
}

// The Europe/Copenhagen wall-clock time of a moment, as ms of a UTC date with those fields:
// "2026-12-04 13:05:09" in Copenhagen is Date.UTC(2026, 11, 4, 13, 5, 9).
export function wallClockMs(ms: number): number {
  const p = zonedParts(Math.floor(ms / 1000));
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) + (((ms % 60_000) + 60_000) % 60_000);
}

// A moment as the chart's cursor shows it: "4.12.2026 14:05".
export function chartMoment(epochS: number): string {
  const p = zonedParts(epochS);
  return `${p.day}.${p.month}.${p.year} ${two(p.hour)}:${two(p.minute)}`;
}

// The points with a null put into every gap longer than `maxGapS`, so the line breaks there.
// `xs` is sorted; each series has one value per x.
export function withGaps(xs: number[], series: Array<Array<number | null>>, maxGapS: number):
  { xs: number[]; series: Array<Array<number | null>>; gaps: number } {
  const outX: number[] = [];
  const outS: Array<Array<number | null>> = series.map(() => []);
  let gaps = 0;
  for (let i = 0; i < xs.length; i++) {
    if (i > 0 && xs[i] - xs[i - 1] > maxGapS) {
      outX.push((xs[i] + xs[i - 1]) / 2);
      for (const s of outS) s.push(null);
      gaps++;
    }
    outX.push(xs[i]);
    series.forEach((s, k) => outS[k].push(s[i]));
  }
  return { xs: outX, series: outS, gaps };
}

// How long a silence must last to be drawn as a gap: three times the usual spacing of the
// points (their median), and never less than the device's expected interval plus half.
export function gapThresholdS(xs: number[], expectedIntervalS?: number | null): number {
  const steps: number[] = [];
  for (let i = 1; i < xs.length; i++) steps.push(xs[i] - xs[i - 1]);
  steps.sort((a, b) => a - b);
  const median = steps.length ? steps[Math.floor(steps.length / 2)] : 0;
  return Math.max(3 * median, 1.5 * (expectedIntervalS ?? 0), 1);
}

export interface RuleForChart {
  name: string; enabled: boolean; kind: string; expression?: string; severity?: string;
  scope: { kind: string; id?: number; tag?: string };
}
export interface DeviceForChart {
  id: number; applicationId: number; deviceModelId?: number | null; tags: string[];
}

// Whether a rule watches the device (its scope: the device, its application, its device model
// or one of its tags).
export function ruleWatches(r: RuleForChart, d: DeviceForChart): boolean {
  switch (r.scope.kind) {
    case 'device': return r.scope.id === d.id;
    case 'application': return r.scope.id === d.applicationId;
    case 'device_model': return d.deviceModelId != null && r.scope.id === d.deviceModelId;
    case 'tag': return r.scope.tag !== undefined && d.tags.includes(r.scope.tag);
    default: return false;
  }
}

function escapeRegExp(s: string): string { return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); }

export type LimitOp = '<' | '<=' | '>' | '>=' | '==' | '!=';
// One comparison of a key with a number in a rule's expression, read as "key op value".
export interface Limit { op: LimitOp; value: number }

const FLIP: Record<LimitOp, LimitOp> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '==': '==', '!=': '!=' };

// The comparisons an expression makes of `key` with a number (`co2 > 1500`, `"air.no2" >= 40`,
// `5 < temp` read as `temp > 5`). Other terms of the expression are ignored.
const limitsMemo = new Map<string, Limit[]>();
export function limitsIn(expression: string, key: string): Limit[] {
  const memo = `${key}\u0000${expression}`;
  let found = limitsMemo.get(memo);
  if (!found) {
    found = parseLimits(expression, key);
    if (limitsMemo.size > 1000) limitsMemo.clear();
    limitsMemo.set(memo, found);
  }
  return found;
}

function parseLimits(expression: string, key: string): Limit[] {
  const k = `(?:${escapeRegExp(key)}|"${escapeRegExp(key)}")`;
  const num = '(-?\\d+(?:\\.\\d+)?(?:[eE][-+]?\\d+)?)';
  const op = '(<=|>=|==|!=|<|>)';
  const found: Limit[] = [];
  const keyFirst = new RegExp(`(?:^|[^\\w."])${k}\\s*${op}\\s*${num}`, 'g');
  const numFirst = new RegExp(`${num}\\s*${op}\\s*${k}(?![\\w."])`, 'g');
  for (const m of expression.matchAll(keyFirst)) found.push({ op: m[1] as LimitOp, value: Number(m[2]) });
  for (const m of expression.matchAll(numFirst)) found.push({ op: FLIP[m[2] as LimitOp], value: Number(m[1]) });
  return found.filter((l) => Number.isFinite(l.value));
}

// The numbers an expression compares `key` with: the lines a chart of `key` draws for the rule.
export function thresholdsIn(expression: string, key: string): number[] {
  return [...new Set(limitsIn(expression, key).map((l) => l.value))];
}

// Whether `value` meets the comparison (the rule's condition holds: the value is beyond the limit).
export function breaches(value: number, l: Limit): boolean {
  switch (l.op) {
    case '<': return value < l.value;
    case '<=': return value <= l.value;
    case '>': return value > l.value;
    case '>=': return value >= l.value;
    case '==': return value === l.value;
    case '!=': return value !== l.value;
  }
}

export interface ChartThreshold { value: number; rule: string }

// The thresholds of the enabled expression rules that watch the device, for the chart of `key`.
export function chartThresholds(rules: RuleForChart[], d: DeviceForChart, key: string): ChartThreshold[] {
  const out: ChartThreshold[] = [];
  for (const r of rules) {
    if (!r.enabled || r.kind !== 'expression' || !r.expression || !ruleWatches(r, d)) continue;
    for (const value of thresholdsIn(r.expression, key)) out.push({ value, rule: r.name });
  }
  return out;
}

export interface RuleLimit extends Limit { rule: string; severity: string }

// The limits the enabled expression rules that watch the device set on `key`, with each rule's
// name and severity (a table cell is coloured by the worst one its value breaches).
export function ruleLimits(rules: RuleForChart[], d: DeviceForChart, key: string): RuleLimit[] {
  const out: RuleLimit[] = [];
  for (const r of rules) {
    if (!r.enabled || r.kind !== 'expression' || !r.expression || !ruleWatches(r, d)) continue;
    for (const l of limitsIn(r.expression, key)) out.push({ ...l, rule: r.name, severity: r.severity ?? 'warning' });
  }
  return out;
}

const weekdayFormat = new Intl.DateTimeFormat('en-GB', { timeZone: CHART_TIME_ZONE, weekday: 'short' });

// School hours: Monday to Friday, 8:00 to 16:00 Europe/Copenhagen (a point at 16:00 is after).
export function inSchoolHours(epochS: number): boolean {
  const day = weekdayFormat.format(new Date(epochS * 1000));
  if (day === 'Sat' || day === 'Sun') return false;
  const p = zonedParts(epochS);
  return p.hour >= 8 && p.hour < 16;
}

// Several series with their own times on one time axis: the union of the times, each series
// with a value at its own times and null elsewhere.
export function alignSeries(points: Array<Array<[number, number | null]>>):
  { xs: number[]; series: Array<Array<number | null>> } {
  const xs = [...new Set(points.flatMap((p) => p.map(([x]) => x)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const series = points.map((p) => {
    const s: Array<number | null> = new Array(xs.length).fill(null);
    for (const [x, v] of p) s[index.get(x) as number] = v;
    return s;
  });
  return { xs, series };
}
