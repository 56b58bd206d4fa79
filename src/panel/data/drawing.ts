// Geometry of the forecast chart: scales, SVG paths, markers and ticks, computed from collected series.
import { CollectedSeries, TimePoint } from './collect';

export interface Tick {
  pos: number;
  label: string;
}

export interface Marker {
  x: number;
  y: number;
  r: number;
  t: number;
  v: number;
  score: number;
}

export interface SeriesDrawing {
  key: string;
  name: string;
  actual: string;
  forecast: string;
  band: string;
  anomalies: Marker[];
}

export interface ChartDrawing {
  width: number;
  height: number;
  plot: { left: number; top: number; right: number; bottom: number };
  xDomain: [number, number];
  yDomain: [number, number];
  xTicks: Tick[];
  yTicks: Tick[];
  nowX: number | null;
  series: SeriesDrawing[];
  empty: boolean;
}

export interface DrawOptions {
  width: number;
  height: number;
  /** Dashboard time range, Unix ms; the x axis also stretches to the end of the forecast. */
  from: number;
  to: number;
  now: number;
  showAnomalies: boolean;
  formatTime: (ms: number, spanMs: number) => string;
  formatValue: (value: number) => string;
}

const MARGIN = { left: 56, right: 12, top: 10, bottom: 22 };
const MINUTE = 60_000;
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080].map((m) => m * MINUTE);

/** Tick positions in value space: 1-2-5 steps, about `count` of them inside [min, max]. */
export function niceTicks(min: number, max: number, count: number): number[] {
  if (!(max > min) || count < 1) {
    return Number.isFinite(min) ? [min] : [];
  }
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  // Round to the nearest of 1, 2, 5, 10 on a log scale (thresholds √2, √10, √50, as d3 does).
  const error = raw / magnitude;
  const step =
    magnitude * (error >= Math.sqrt(50) ? 10 : error >= Math.sqrt(10) ? 5 : error >= Math.SQRT2 ? 2 : 1);
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) {
    ticks.push(Number(v.toPrecision(12)));
  }
  return ticks;
}

/** Time ticks at a round interval, at most one per `minGapPx` pixels. */
export function timeTicks(from: number, to: number, widthPx: number, minGapPx = 90): number[] {
  const span = to - from;
  if (!(span > 0) || widthPx <= 0) {
    return [];
  }
  const maxTicks = Math.max(1, Math.floor(widthPx / minGapPx));
  const step = TIME_STEPS.find((s) => span / s <= maxTicks) ?? TIME_STEPS[TIME_STEPS.length - 1];
  const ticks: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
    ticks.push(t);
  }
  return ticks;
}

function linear(domain: [number, number], range: [number, number]) {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v: number) => r0 + (v - d0) * k;
}

const fmt = (n: number) => (Math.round(n * 10) / 10).toString();

/** An SVG path through the points; a null value lifts the pen so gaps stay gaps. */
export function linePath(points: TimePoint[], x: (t: number) => number, y: (v: number) => number): string {
  let d = '';
  let penDown = false;
  for (const p of points) {
    if (p.v === null) {
      penDown = false;
      continue;
    }
    d += `${penDown ? 'L' : d ? ' M' : 'M'}${fmt(x(p.t))},${fmt(y(p.v))}`;
    penDown = true;
  }
  return d;
}

/** Closed polygons between upper and lower bounds, one per run of complete band points. */
export function bandPath(
  band: CollectedSeries['band'],
  x: (t: number) => number,
  y: (v: number) => number
): string {
  const runs: Array<Array<{ t: number; lower: number; upper: number }>> = [];
  let run: Array<{ t: number; lower: number; upper: number }> = [];
  for (const p of band) {
    if (p.lower === null || p.upper === null) {
      if (run.length) {
        runs.push(run);
      }
      run = [];
      continue;
    }
    run.push({ t: p.t, lower: p.lower, upper: p.upper });
  }
  if (run.length) {
    runs.push(run);
  }
  return runs
    .map((r) => {
      const upper = r.map((p, i) => `${i === 0 ? 'M' : 'L'}${fmt(x(p.t))},${fmt(y(p.upper))}`).join('');
      const lower = [...r]
        .reverse()
        .map((p) => `L${fmt(x(p.t))},${fmt(y(p.lower))}`)
        .join('');
      return `${upper}${lower}Z`;
    })
    .join(' ');
}

function extent(series: CollectedSeries[], showAnomalies: boolean) {
  let tMin = Infinity;
  let tMax = -Infinity;
  let vMin = Infinity;
  let vMax = -Infinity;
  const seeT = (t: number) => {
    tMin = Math.min(tMin, t);
    tMax = Math.max(tMax, t);
  };
  const seeV = (v: number | null) => {
    if (v !== null) {
      vMin = Math.min(vMin, v);
      vMax = Math.max(vMax, v);
    }
  };
  for (const s of series) {
    s.actual.forEach((p) => (seeT(p.t), seeV(p.v)));
    s.forecast.forEach((p) => (seeT(p.t), seeV(p.v)));
    s.band.forEach((p) => (seeT(p.t), seeV(p.lower), seeV(p.upper)));
    if (showAnomalies) {
      s.anomalies.forEach((p) => (seeT(p.t), seeV(p.v)));
    }
  }
  return { tMin, tMax, vMin, vMax };
}

export function buildDrawing(series: CollectedSeries[], opts: DrawOptions): ChartDrawing {
  const { width, height } = opts;
  const plot = {
    left: MARGIN.left,
    top: MARGIN.top,
    right: Math.max(MARGIN.left + 1, width - MARGIN.right),
    bottom: Math.max(MARGIN.top + 1, height - MARGIN.bottom),
  };
  const { tMax, vMin, vMax } = extent(series, opts.showAnomalies);
  const empty = !Number.isFinite(vMin);
  // The dashboard range sets the left edge; the forecast may run past its right edge, so stretch to it.
  const xDomain: [number, number] = [opts.from, Math.max(opts.to, Number.isFinite(tMax) ? tMax : opts.to)];
  let yDomain: [number, number] = empty ? [0, 1] : [vMin, vMax];
  if (yDomain[1] - yDomain[0] < 1e-12) {
    const pad = Math.abs(yDomain[0]) * 0.1 || 1;
    yDomain = [yDomain[0] - pad, yDomain[1] + pad];
  } else {
    const pad = (yDomain[1] - yDomain[0]) * 0.05;
    yDomain = [yDomain[0] - pad, yDomain[1] + pad];
  }
  const x = linear(xDomain, [plot.left, plot.right]);
  const y = linear(yDomain, [plot.bottom, plot.top]);
  const span = xDomain[1] - xDomain[0];
  const inX = (t: number) => t >= xDomain[0] && t <= xDomain[1];

  const drawn: SeriesDrawing[] = series.map((s) => ({
    key: s.key,
    name: s.name,
    actual: linePath(
      s.actual.filter((p) => inX(p.t)),
      x,
      y
    ),
    forecast: linePath(
      s.forecast.filter((p) => inX(p.t)),
      x,
      y
    ),
    band: bandPath(
      s.band.filter((p) => inX(p.t)),
      x,
      y
    ),
    anomalies: opts.showAnomalies
      ? s.anomalies
          .filter((p) => inX(p.t))
          .map((p) => ({
            x: x(p.t),
            y: y(p.v),
            r: 3 + 3 * Math.min(1, Math.max(0, p.score)),
            t: p.t,
            v: p.v,
            score: p.score,
          }))
      : [],
  }));

  return {
    width,
    height,
    plot,
    xDomain,
    yDomain,
    xTicks: timeTicks(xDomain[0], xDomain[1], plot.right - plot.left).map((t) => ({
      pos: x(t),
      label: opts.formatTime(t, span),
    })),
    yTicks: niceTicks(yDomain[0], yDomain[1], Math.max(2, Math.floor((plot.bottom - plot.top) / 40))).map(
      (v) => ({
        pos: y(v),
        label: opts.formatValue(v),
      })
    ),
    nowX: inX(opts.now) ? x(opts.now) : null,
    series: drawn,
    empty,
  };
}
