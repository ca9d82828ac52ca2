// A gateway's availability over a period, from its online/offline changes (issue 20: "online/
// offline history"). Pure functions: the gateway page draws the bar and the outage list from
// them, and the browser tests read what they computed.
import type { GatewayStateChange } from './api';

// A stretch of the period in one state; null: nothing is known (before the first record).
export interface Segment { fromMs: number; toMs: number; online: boolean | null }

// The period [fromMs, toMs] cut at each change. `changes` may start before the period (the
// last one before it gives the state at its start) and need not be sorted.
export function stateSegments(changes: GatewayStateChange[], fromMs: number, toMs: number): Segment[] {
  const sorted = changes
    .map((c) => ({ ms: Date.parse(c.time), online: c.online }))
    .filter((c) => Number.isFinite(c.ms) && c.ms <= toMs)
    .sort((a, b) => a.ms - b.ms);
  let state: boolean | null = null;
  let i = 0;
  for (; i < sorted.length && sorted[i].ms <= fromMs; i++) state = sorted[i].online;
  const out: Segment[] = [];
  let at = fromMs;
  for (; i < sorted.length; i++) {
    if (sorted[i].online === state) continue;  // a repeated state is no change
    if (sorted[i].ms > at) out.push({ fromMs: at, toMs: sorted[i].ms, online: state });
    at = sorted[i].ms;
    state = sorted[i].online;
  }
  if (toMs > at) out.push({ fromMs: at, toMs, online: state });
  return out;
}

// The share of the known time that was online (0–1), or null when no state is known.
export function onlineShare(segments: Segment[]): number | null {
  let known = 0;
  let online = 0;
  for (const s of segments) {
    if (s.online === null) continue;
    known += s.toMs - s.fromMs;
    if (s.online) online += s.toMs - s.fromMs;
  }
  return known > 0 ? online / known : null;
}

// The offline stretches, newest first.
export function outages(segments: Segment[]): Segment[] {
  return segments.filter((s) => s.online === false).reverse();
}
