// A uPlot time chart drawn the way chart.ts says Danes read one: Copenhagen 24-hour time with
// day.month dates, the period up to now, the unit on the y axis, gaps as breaks and the rules'
// thresholds as dashed red lines. The device page and the comparison screen draw with it; it
// exposes what it drew on the box (`data-x-labels`, `data-gaps`, `data-unit`, `data-thresholds`,
// `data-legend`, `data-x-max`, `data-points`) for the browser tests.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { t, fmtNum } from './i18n';
import { CHART_TIME_ZONE, ChartThreshold, chartMoment, timeAxisLabels, withGaps } from './chart';

// An average and its min / max (the device page): blue, grey, amber.
const STAT_COLORS = ['#0b5cad', '#6b7280', '#b45309'];
// One colour per device (the comparison's chart), each with at least 3:1 contrast on white.
export const DEVICE_COLORS = ['#0b5cad', '#b45309', '#047857', '#7c3aed', '#be123c', '#0e7490', '#4d7c0f',
  '#9a3412', '#1e3a8a', '#4b5563'];

export interface TimePlot {
  xs: number[];                          // seconds, sorted
  series: Array<Array<number | null>>;   // one value per x each
  labels: string[];                      // legend, one per series
  maxGapS: number;                       // a longer silence breaks the lines
  fromS: number; toS: number;            // the period shown
  unit: string; yLabel: string;
  lines: ChartThreshold[];
  // The first series drawn thick and the others dashed (avg / min / max), or all alike, one
  // colour each (devices).
  emphasiseFirst?: boolean;
  height?: number;
}

// Draws `p` into `box` (emptied first); the caller destroys the returned plot.
export function timePlot(box: HTMLElement, p: TimePlot): uPlot {
  const broken = withGaps(p.xs, p.series, p.maxGapS);
  const { unit, lines } = p;
  const height = p.height ?? 320;
  box.replaceChildren();
  box.dataset.points = String(p.xs.length);
  box.dataset.gaps = String(broken.gaps);
  box.dataset.unit = unit;
  box.dataset.xMax = String(p.toS);
  box.dataset.thresholds = lines.map((l) => l.value).join(',');
  box.dataset.legend = p.labels.join(',');
  const emph = p.emphasiseFirst ?? false;
  const colors = emph ? STAT_COLORS : DEVICE_COLORS;
  return new uPlot({
    width: Math.max(300, box.clientWidth || 800), height,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), CHART_TIME_ZONE),
    cursor: { drag: { x: true, y: false } },
    scales: {
      x: { time: true, range: () => [p.fromS, p.toS] },
      // The thresholds stay in view even when the data never came near them.
      y: {
        range: (_u, min, max) => uPlot.rangeNum(
          Math.min(min, ...lines.map((l) => l.value)), Math.max(max, ...lines.map((l) => l.value)), 0.1, true),
      },
    },
    series: [
      { label: t('device.time'), value: (_u, v) => (v == null ? '–' : chartMoment(v)) },
      ...p.labels.map((l, i) => ({
        label: l, stroke: colors[i % colors.length], width: !emph || i === 0 ? 2 : 1,
        dash: emph && i > 0 ? [4, 4] : undefined,
        value: (_u: uPlot, v: number | null) => (v == null ? '–' : `${fmtNum(v)}${unit ? ` ${unit}` : ''}`),
        points: { show: p.xs.length < 200 },
      })),
    ],
    axes: [
      {
        values: (_u, ticks, _axis, _space, incr) => {
          const out = timeAxisLabels(ticks, incr);
          box.dataset.xLabels = out.join('|');
          return out;
        },
      },
      { label: p.yLabel, values: (_u, vals) => vals.map((v) => fmtNum(v)) },
    ],
    hooks: {
      draw: [(u) => drawThresholds(u, lines)],
    },
  }, [broken.xs, ...broken.series] as uPlot.AlignedData, box);
}

// Keeps a plot as wide as its box; returns the observer's disconnect.
export function followWidth(box: HTMLElement, plot: () => uPlot | null, height = 320): () => void {
  const ro = new ResizeObserver(() => {
    const u = plot();
    if (u && box.clientWidth) u.setSize({ width: box.clientWidth, height });
  });
  ro.observe(box);
  return () => ro.disconnect();
}

// The rules' thresholds as dashed red lines across the plot, each named by its rule.
function drawThresholds(u: uPlot, lines: ChartThreshold[]): void {
  const ctx = u.ctx;
  const { left, top, width, height } = u.bbox;
  ctx.save();
  ctx.strokeStyle = '#b91c1c';
  ctx.fillStyle = '#b91c1c';
  ctx.lineWidth = 1.5 * devicePixelRatio;
  ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
  ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'bottom';
  for (const l of lines) {
    const y = Math.round(u.valToPos(l.value, 'y', true));
    if (y < top || y > top + height) continue;
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(left + width, y);
    ctx.stroke();
    ctx.fillText(`${l.rule}: ${fmtNum(l.value)}`, left + width - 4 * devicePixelRatio, y - 3 * devicePixelRatio);
  }
  ctx.restore();
}
