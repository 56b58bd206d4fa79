/** A backtest as one self-contained HTML page: tables and inline SVG charts, no external assets. */
import type { BacktestResult, HorizonResult, SeriesTrace } from './backtest';
import { esc, niceTicks as ticks } from './html';

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
const W = 640;
const H = 260;
const PAD = { left: 60, right: 150, top: 20, bottom: 40 };

function fmt(v: number | undefined, digits = 4): string {
  return v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

interface Line {
  label: string;
  colour: string;
  points: Array<[number, number]>;
  band?: Array<[number, number, number]>;
  dash?: boolean;
}

function chart(title: string, lines: Line[], xLabel: (x: number) => string, xTicks?: number[]): string {
  const all = lines.flatMap((l) => [
    ...l.points,
    ...(l.band ?? []).flatMap(([x, a, b]) => [[x, a] as [number, number], [x, b] as [number, number]]),
  ]);
  const finite = all.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (finite.length === 0) return `<p>${esc(title)}: nothing to plot</p>`;
  const xs = finite.map((p) => p[0]);
  const ys = finite.map((p) => p[1]);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  let y0 = Math.min(...ys);
  let y1 = Math.max(...ys);
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const pw = W - PAD.left - PAD.right;
  const ph = H - PAD.top - PAD.bottom;
  const sx = (x: number) => PAD.left + (x1 === x0 ? pw / 2 : ((x - x0) / (x1 - x0)) * pw);
  const sy = (y: number) => PAD.top + ph - ((y - y0) / (y1 - y0)) * ph;
  const parts: string[] = [];
  parts.push(`<text x="${PAD.left}" y="14" font-size="13" font-weight="bold">${esc(title)}</text>`);
  for (const t of ticks(y0, y1)) {
    parts.push(
      `<line x1="${PAD.left}" x2="${PAD.left + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/>` +
        `<text x="${PAD.left - 4}" y="${sy(t) + 4}" font-size="10" text-anchor="end">${esc(String(t))}</text>`
    );
  }
  for (const t of xTicks ?? ticks(x0, x1)) {
    parts.push(
      `<line x1="${sx(t)}" x2="${sx(t)}" y1="${PAD.top + ph}" y2="${PAD.top + ph + 4}" stroke="#333"/>` +
        `<text x="${sx(t)}" y="${PAD.top + ph + 16}" font-size="10" text-anchor="middle">${esc(xLabel(t))}</text>`
    );
  }
  parts.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  const path = (pts: Array<[number, number]>) => {
    let d = '';
    let pen = false;
    for (const [x, y] of pts) {
      if (!Number.isFinite(y)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`;
      pen = true;
    }
    return d;
  };
  lines.forEach((l, i) => {
    if (l.band && l.band.length) {
      const upper = l.band.map(([x, , b]) => `${sx(x).toFixed(1)},${sy(b).toFixed(1)}`);
      const lower = [...l.band].reverse().map(([x, a]) => `${sx(x).toFixed(1)},${sy(a).toFixed(1)}`);
      parts.push(
        `<polygon points="${[...upper, ...lower].join(' ')}" fill="${l.colour}" fill-opacity="0.15" stroke="none"/>`
      );
    }
    parts.push(
      `<path d="${path(l.points)}" fill="none" stroke="${l.colour}" stroke-width="1.5"${l.dash ? ' stroke-dasharray="4 3"' : ''}/>`
    );
    const ly = PAD.top + 12 + i * 16;
    parts.push(
      `<line x1="${W - PAD.right + 10}" x2="${W - PAD.right + 28}" y1="${ly - 4}" y2="${ly - 4}" stroke="${l.colour}" stroke-width="2"/>` +
        `<text x="${W - PAD.right + 32}" y="${ly}" font-size="11">${esc(l.label)}</text>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">${parts.join('')}</svg>`;
}

function errorCharts(results: HorizonResult[], step: number): string {
  const models = [...new Set(results.map((r) => r.model))];
  const lines = (key: 'rmse' | 'accuracy') =>
    models.map((m, i) => ({
      label: m,
      colour: COLOURS[i % COLOURS.length],
      points: results
        .filter((r) => r.model === m)
        .map((r) => [(r.horizon * step) / 60, r[key]] as [number, number]),
    }));
  const hs = [...new Set(results.map((r) => (r.horizon * step) / 60))];
  const minutes = (x: number) => `${x} min`;
  return (
    chart('rmse (median over series, scaled) by horizon', lines('rmse'), minutes, hs) +
    chart('accuracy (1 − WAPE, pooled) by horizon', lines('accuracy'), minutes, hs)
  );
}

/**
 * The longest gap-free stretch of a traced test part (its last `maxPoints`): actual, and each model's forecast
 * made H steps before each time, with its interval where the model gives one.
 */
function traceChart(trace: SeriesTrace, step: number, horizons: number, maxPoints: number): string {
  let best = [0, 0];
  for (let i = 0, runStart = 0; i < trace.times.length; i++) {
    if (i > 0 && trace.times[i] - trace.times[i - 1] !== step) runStart = i;
    if (i + 1 - runStart > best[1] - best[0]) best = [runStart, i + 1];
  }
  const from = Math.max(best[0], best[1] - maxPoints);
  const times = trace.times.slice(from, best[1]);
  const run = new Set(trace.times.slice(best[0], best[1]));
  const plotted = new Set(times);
  const t0 = times[0];
  const hours = (t: number) => (t - t0) / 3600;
  const lines: Line[] = [
    { label: 'actual', colour: '#000', points: times.map((t, i) => [hours(t), trace.actual[from + i]]) },
  ];
  Object.entries(trace.forecasts).forEach(([model, fcs], i) => {
    // Origin and target in the same gap-free run, so the forecast never spans a gap.
    const shown = fcs.filter((f) => run.has(f.origin) && plotted.has(f.origin + horizons * step));
    const at = (f: (typeof fcs)[number]) => hours(f.origin + horizons * step);
    lines.push({
      label: model,
      colour: COLOURS[i % COLOURS.length],
      dash: true,
      points: shown.map((f) => [at(f), f.mean[horizons - 1]]),
      band: shown.every((f) => f.lower && f.upper)
        ? shown.map((f) => [at(f), f.lower![horizons - 1], f.upper![horizons - 1]])
        : undefined,
    });
  });
  const title = `${(horizons * step) / 60} min ahead; hours after ${new Date(t0 * 1000).toISOString().slice(0, 16)}Z`;
  return `<h3>${esc(trace.name)}</h3>` + chart(title, lines, (x) => `${x}h`);
}

export function backtestReport(
  dataset: string,
  r: BacktestResult,
  opts: { maxTracePoints?: number } = {}
): string {
  const rows = r.results
    .map(
      (x) =>
        `<tr><td>${esc(x.model)}</td><td>${(x.horizon * r.step) / 60} min</td><td>${fmt(x.rmse)}</td>` +
        `<td>${fmt(x.rmse_pooled)}</td><td>${fmt(x.mae)}</td><td>${fmt(x.accuracy)}</td><td>${x.n}</td>` +
        `<td>${fmt(x.coverage, 3)}</td></tr>`
    )
    .join('\n');
  const skipped = r.skipped.constant.length + r.skipped.tooShort.length;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Prescaler backtest: ${esc(dataset)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child{text-align:left}svg{margin:8px}</style>
</head><body>
<h1>Forecast backtest: ${esc(dataset)}</h1>
<p>Step ${r.step} s, horizons 1…${r.horizons}; ${r.series} series scored, ${skipped} skipped
(${r.skipped.constant.length} with a constant training part, ${r.skipped.tooShort.length} too short).
rmse and mae in scaled units (min-max per series on its first 80 %), median over series; rmse_pooled over all
(series, origin) pairs; accuracy = 1 − WAPE in original units, pooled; coverage = share of actuals inside the
model's interval.</p>
<h2>Error by horizon</h2>
${errorCharts(r.results, r.step)}
<table><thead><tr><th>model</th><th>horizon</th><th>rmse</th><th>rmse_pooled</th><th>mae</th><th>accuracy</th><th>n</th><th>coverage</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<h2>Actual vs forecast, sample series</h2>
${r.traces.map((t) => traceChart(t, r.step, r.horizons, opts.maxTracePoints ?? 288)).join('\n')}
</body></html>
`;
}
