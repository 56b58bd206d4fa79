/**
 * The `simulate --frontier --report out.html` page (DESIGN §3 "Cost at equal violations"): both policies'
 * frontiers on the test slice, the two comparisons as a table, and one test day of demand against each
 * policy's capacity. One self-contained HTML page: inline SVG, no scripts, fonts or other external assets.
 */
import { esc, niceTicks } from '../html';
import {
  BUDGET_FRACTION,
  DEFAULT_HPA_TARGET,
  type Comparison,
  type FrontierPoint,
  type FrontierResult,
  type SampleDay,
  type Setting,
} from './frontier';
import { COLORS } from './report';

const COLOUR = {
  hpa: COLORS.hpa,
  prescaler: COLORS.prescaler,
  oracle: COLORS.oracle,
  demand: '#444',
  budget: '#8a6d00',
};

/** `x` with `digits` decimals and a true minus sign; '–' where it is not a finite number. */
export function num(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const s = Math.abs(x).toFixed(digits);
  return x < 0 && Number(s) !== 0 ? `−${s}` : s;
}

/** A fraction as a percentage with one decimal: 0.1234 → "12.3 %". */
export function pct(x: number | null | undefined): string {
  const s = num(x === null || x === undefined ? x : x * 100, 1);
  return s === '–' ? s : `${s} %`;
}

/**
 * What a setting is, in words: "target 0.70", "upper band at 0.80 utilisation, HPA 0.90 behind", with
 * ", peak p90" when the series' peak-to-mean ratio raises the band.
 */
export function describeSetting(s: Setting): string {
  if ('targetUtilization' in s) return `target ${s.targetUtilization.toFixed(2)}`;
  if ('quantile' in s) {
    const q = s.peakQuantile;
    const peak = q === undefined || q === 'off' ? '' : `, peak p${Math.round(q * 100)}`;
    return `${s.quantile} band at ${s.utilization.toFixed(2)} utilisation${peak}, HPA ${s.hpaTarget.toFixed(2)} behind`;
  }
  return 'knows the future';
}

/**
 * The lower-left Pareto front: the points no other point beats on both replica-hours and violation
 * minutes, in order of rising cost (so of falling violations).
 */
export function paretoFront(points: readonly FrontierPoint[]): FrontierPoint[] {
  const sorted = points
    .filter((p) => Number.isFinite(p.replicaHours) && Number.isFinite(p.violationMinutes))
    .sort((a, b) => a.replicaHours - b.replicaHours || a.violationMinutes - b.violationMinutes);
  const out: FrontierPoint[] = [];
  let best = Infinity;
  for (const p of sorted) {
    if (p.violationMinutes < best) {
      out.push(p);
      best = p.violationMinutes;
    }
  }
  return out;
}

interface Axis {
  /** Value → pixel. */
  at: (v: number) => number;
  ticks: Array<{ v: number; label: string; minor?: boolean }>;
  title: string;
}

/** Decimals enough to tell a tick spacing apart: 0.5 → 1, 20 → 0. */
function decimalsFor(step: number): number {
  return step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step) - 1e-9));
}

function linearAxis(lo: number, hi: number, from: number, to: number, title: string, count = 6): Axis {
  if (!(hi > lo)) [lo, hi] = [lo - 1, hi + 1];
  const ts = niceTicks(lo, hi, count);
  const digits = ts.length > 1 ? decimalsFor(ts[1] - ts[0]) : 0;
  return {
    at: (v) => from + ((v - lo) / (hi - lo)) * (to - from),
    ticks: ts.map((v) => ({ v, label: num(v, digits) })),
    title,
  };
}

/**
 * Violation minutes span from 0 (the oracle) to thousands (an HPA run too hot) on a real trace: where the
 * positive values span more than `SYMLOG_RATIO`, the axis is symlog, log10(1 + minutes), so the budget
 * and the points near it stay readable; otherwise it is linear.
 */
const SYMLOG_RATIO = 30;

function violationAxis(values: number[], from: number, to: number): Axis & { symlog: boolean } {
  const finite = values.filter((v) => Number.isFinite(v) && v >= 0);
  const max = Math.max(0, ...finite);
  const positive = finite.filter((v) => v > 0);
  const symlog = positive.length > 0 && max > 10 && max / Math.max(1, Math.min(...positive)) > SYMLOG_RATIO;
  if (!symlog) {
    // A little room below 0, so points at 0 (the oracle, often) sit clear of the frame with their labels.
    const hi = max > 0 ? max * 1.08 : 1;
    const a = linearAxis(-0.05 * hi, hi, from, to, 'violation minutes (linear scale)');
    return { ...a, ticks: a.ticks.filter((t) => t.v >= 0), symlog };
  }
  const f = (v: number) => Math.log10(1 + Math.max(0, v));
  const top = f(max) + 0.12;
  const below = 0.05 * top;
  const at = (v: number) => from + ((f(v) + below) / (top + below)) * (to - from);
  const ticks: Axis['ticks'] = [{ v: 0, label: '0' }];
  for (let p = 1; f(p) <= top; p *= 10) {
    ticks.push({ v: p, label: String(p) });
    for (const m of [2, 5]) if (f(p * m) <= top) ticks.push({ v: p * m, label: '', minor: true });
  }
  return { at, ticks, title: 'violation minutes (symlog scale: log10(1 + minutes))', symlog };
}

interface Frame {
  W: number;
  H: number;
  pad: { left: number; right: number; top: number; bottom: number };
}

/** Grid, ticks, tick labels and axis titles of a chart. */
function axes(fr: Frame, x: Axis, y: Axis): string {
  const { W, H, pad } = fr;
  const left = pad.left;
  const right = W - pad.right;
  const top = pad.top;
  const bottom = H - pad.bottom;
  const out: string[] = [];
  for (const t of y.ticks) {
    const py = y.at(t.v).toFixed(1);
    out.push(
      `<line x1="${left}" x2="${right}" y1="${py}" y2="${py}" stroke="${t.minor ? '#f3f3f3' : '#e4e4e4'}"/>`
    );
    if (t.label)
      out.push(
        `<text x="${left - 6}" y="${(Number(py) + 3.5).toFixed(1)}" font-size="11" text-anchor="end" fill="#333">${esc(t.label)}</text>`
      );
  }
  for (const t of x.ticks) {
    const px = x.at(t.v).toFixed(1);
    out.push(
      `<line x1="${px}" x2="${px}" y1="${top}" y2="${bottom}" stroke="#eeeeee"/>` +
        `<line x1="${px}" x2="${px}" y1="${bottom}" y2="${bottom + 5}" stroke="#333"/>` +
        `<text x="${px}" y="${bottom + 18}" font-size="11" text-anchor="middle" fill="#333">${esc(t.label)}</text>`
    );
  }
  out.push(
    `<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="#999"/>`,
    `<text class="axis-title" x="${(left + right) / 2}" y="${H - 8}" font-size="12" text-anchor="middle">${esc(x.title)}</text>`,
    `<text class="axis-title" transform="translate(16 ${(top + bottom) / 2}) rotate(-90)" font-size="12" text-anchor="middle">${esc(y.title)}</text>`
  );
  return out.join('\n');
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Rough extent of a sans-serif label: about 0.6 em per character (0.64 bold). */
function textBox(
  x: number,
  y: number,
  text: string,
  size: number,
  anchor: 'start' | 'end',
  bold = false
): Box {
  const w = text.length * size * (bold ? 0.64 : 0.6);
  const x0 = anchor === 'start' ? x : x - w;
  return { x0, y0: y - size * 0.8, x1: x0 + w, y1: y + size * 0.25 };
}

function overlap(a: Box, b: Box): number {
  const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  return w > 0 && h > 0 ? w * h : 0;
}

/**
 * Places labels one by one beside their anchor point: of the candidate offsets, the first that overlaps
 * nothing already placed (labels and markers) and stays inside the plot, else the one overlapping least.
 */
class Placer {
  private taken: Box[] = [];
  constructor(private readonly area: Box) {}

  block(b: Box): void {
    this.taken.push(b);
  }

  blockPoint(x: number, y: number, r: number): void {
    this.taken.push({ x0: x - r, y0: y - r, x1: x + r, y1: y + r });
  }

  place(
    x: number,
    y: number,
    text: string,
    size: number,
    candidates: Array<[number, number, 'start' | 'end']>,
    bold = false
  ): { x: number; y: number; anchor: 'start' | 'end' } {
    let best: { x: number; y: number; anchor: 'start' | 'end'; cost: number } | undefined;
    for (const [dx, dy, anchor] of candidates) {
      const b = textBox(x + dx, y + dy, text, size, anchor, bold);
      const outside =
        Math.max(0, this.area.x0 - b.x0) +
        Math.max(0, b.x1 - this.area.x1) +
        Math.max(0, this.area.y0 - b.y0) +
        Math.max(0, b.y1 - this.area.y1);
      const cost = this.taken.reduce((a, t) => a + overlap(b, t), 0) + outside * 1000;
      if (!best || cost < best.cost - 1e-9) best = { x: x + dx, y: y + dy, anchor, cost };
      if (cost === 0) break;
    }
    this.taken.push(textBox(best!.x, best!.y, text, size, best!.anchor, bold));
    return best!;
  }
}

/** Text with a white halo, so a label stays readable over lines and dots. */
function label(x: number, y: number, text: string, attrs: string): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" stroke="#fff" stroke-width="3" paint-order="stroke" ${attrs}>${esc(text)}</text>`;
}

function polyline(pts: Array<[number, number]>): string {
  return pts.map(([x, y], i) => `${i ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`).join('');
}

/** A point's figures, for its tooltip. */
function figures(p: FrontierPoint): string {
  return `${num(p.replicaHours)} replica-h, ${num(p.violationMinutes)} violation min, ${p.lateScaleUps} late scale-ups`;
}

function sameSetting(a: Setting, b: Setting): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Chart 1: both frontiers on the test slice, the budget, the oracle and the chosen points. */
function frontierChart(f: FrontierResult): string {
  const fr: Frame = { W: 1080, H: 560, pad: { left: 78, right: 260, top: 18, bottom: 54 } };
  const hpa = [...f.frontier.hpa].sort(
    (a, b) =>
      ('targetUtilization' in a.setting ? a.setting.targetUtilization : 0) -
      ('targetUtilization' in b.setting ? b.setting.targetUtilization : 0)
  );
  const pre = f.frontier.prescaler;
  const front = paretoFront(pre);
  const all = [...hpa, ...pre, f.oracle];
  const xs = all.map((p) => p.replicaHours).filter(Number.isFinite);
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const margin = (hi - lo || Math.abs(hi) || 1) * 0.06;
  const x = linearAxis(
    Math.max(0, lo - margin),
    hi + margin,
    fr.pad.left,
    fr.W - fr.pad.right,
    `replica-hours on the test slice (${num(f.evaluatedHours)} h, ${f.series} series pooled)`,
    8
  );
  const y = violationAxis(
    [...all.map((p) => p.violationMinutes), f.budget.violationMinutes],
    fr.H - fr.pad.bottom,
    fr.pad.top
  );
  const xy = (p: FrontierPoint): [number, number] => [x.at(p.replicaHours), y.at(p.violationMinutes)];
  const out: string[] = [axes(fr, x, y)];
  // Labels are drawn last, over every line and marker, each placed where it hides no other.
  const labels: string[] = [];
  const placer = new Placer({
    x0: fr.pad.left,
    y0: fr.pad.top,
    x1: fr.W - fr.pad.right,
    y1: fr.H - fr.pad.bottom,
  });
  const hpaXY = hpa.map(xy);
  const preXY = pre.map(xy);
  const [ox, oy] = xy(f.oracle);
  for (const [px, py] of [...hpaXY, ...preXY]) placer.blockPoint(px, py, 4);
  placer.blockPoint(ox, oy, 7);

  // The budget.
  const by = y.at(f.budget.violationMinutes);
  out.push(
    `<line class="budget" x1="${fr.pad.left}" x2="${fr.W - fr.pad.right}" y1="${by.toFixed(1)}" y2="${by.toFixed(1)}" stroke="${COLOUR.budget}" stroke-width="1.5" stroke-dasharray="7 4"/>`
  );

  // Prescaler: every setting a dot, its Pareto front a line.
  pre.forEach((p, i) => {
    const [px, py] = preXY[i];
    const upper = 'quantile' in p.setting && p.setting.quantile === 'upper';
    out.push(
      `<circle class="point-prescaler" cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3.5" fill="${upper ? '#fff' : COLOUR.prescaler}" fill-opacity="${upper ? 1 : 0.55}" stroke="${COLOUR.prescaler}" stroke-width="1.2"><title>Prescaler: ${esc(describeSetting(p.setting))}; ${esc(figures(p))}</title></circle>`
    );
  });
  out.push(
    `<path class="frontier-prescaler" d="${polyline(front.map(xy))}" fill="none" stroke="${COLOUR.prescaler}" stroke-width="2"/>`
  );

  // HPA: its points joined in target order.
  out.push(
    `<path class="frontier-hpa" d="${polyline(hpaXY)}" fill="none" stroke="${COLOUR.hpa}" stroke-width="2"/>`
  );
  hpa.forEach((p, i) => {
    const [px, py] = hpaXY[i];
    const t = 'targetUtilization' in p.setting ? p.setting.targetUtilization : NaN;
    out.push(
      `<circle class="point-hpa" data-target="${t}" cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="4" fill="${COLOUR.hpa}"><title>HPA target ${num(t, 2)}: ${esc(figures(p))}</title></circle>`
    );
  });

  // The oracle.
  out.push(
    `<path class="oracle" d="M${ox.toFixed(1)},${(oy - 7).toFixed(1)}l7,7l-7,7l-7,-7z" fill="${COLOUR.oracle}" stroke="#fff"><title>oracle: ${esc(figures(f.oracle))}</title></path>`
  );

  // The chosen points of both comparisons; one mark where both chose the same setting.
  const chosen: Array<{ policy: 'hpa' | 'prescaler'; p: FrontierPoint; by: Array<'tuned' | 'default'> }> = [];
  for (const cmp of ['tuned', 'default'] as const) {
    for (const policy of ['hpa', 'prescaler'] as const) {
      const p = f.comparison[cmp][policy];
      const same = chosen.find((c) => c.policy === policy && sameSetting(c.p.setting, p.setting));
      if (same) same.by.push(cmp);
      else chosen.push({ policy, p, by: [cmp] });
    }
  }
  for (const c of chosen) {
    const [px, py] = xy(c.p);
    placer.blockPoint(px, py, 9);
  }
  const around = (r: number): Array<[number, number, 'start' | 'end']> => [
    [r, r + 8, 'start'],
    [-r, r + 8, 'end'],
    [r, -r, 'start'],
    [-r, -r, 'end'],
    [r + 2, 4, 'start'],
    [-r - 2, 4, 'end'],
    [0, r + 20, 'start'],
    [0, r + 20, 'end'],
    [0, -r - 12, 'start'],
    [0, -r - 12, 'end'],
  ];
  for (const c of chosen) {
    const [px, py] = xy(c.p);
    const name = c.policy === 'hpa' ? 'HPA' : 'Prescaler';
    const text = `${c.by.join(' & ')} ${name}`;
    const at = placer.place(px, py, text, 11.5, around(10), true);
    out.push(
      `<g class="chosen ${c.by.map((b) => `chosen-${b}`).join(' ')} chosen-${c.policy}">` +
        `<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="9" fill="none" stroke="#111" stroke-width="1.6"${c.by.includes('tuned') ? '' : ' stroke-dasharray="3 2"'}/>` +
        `</g>`
    );
    labels.push(
      label(
        at.x,
        at.y,
        text,
        `class="label-chosen" font-size="11.5" font-weight="bold" text-anchor="${at.anchor}" fill="${COLOUR[c.policy]}"`
      )
    );
  }
  {
    const at = placer.place(ox, oy, 'oracle', 11, around(8), true);
    labels.push(
      label(
        at.x,
        at.y,
        'oracle',
        `font-size="11" font-weight="bold" text-anchor="${at.anchor}" fill="${COLOUR.oracle}"`
      )
    );
  }
  {
    const text = `budget ${num(f.budget.violationMinutes)} min (${num(BUDGET_FRACTION * 100)} % of test minutes)`;
    const l = fr.pad.left + 6;
    const r = fr.W - fr.pad.right - 6;
    const at = placer.place(0, by, text, 11, [
      [l, -5, 'start'],
      [r, -5, 'end'],
      [l, 14, 'start'],
      [r, 14, 'end'],
      [(l + r) / 2, -5, 'start'],
      [(l + r) / 2, 14, 'start'],
    ]);
    labels.push(
      label(
        at.x,
        at.y,
        text,
        `class="label-budget" font-size="11" text-anchor="${at.anchor}" fill="${COLOUR.budget}"`
      )
    );
  }
  hpa.forEach((p, i) => {
    const [px, py] = hpaXY[i];
    const t = 'targetUtilization' in p.setting ? num(p.setting.targetUtilization, 2) : '';
    const at = placer.place(px, py, t, 10.5, [
      [6, -6, 'start'],
      [-6, -6, 'end'],
      [6, 14, 'start'],
      [-6, 14, 'end'],
      [8, 4, 'start'],
      [-8, 4, 'end'],
    ]);
    labels.push(
      label(
        at.x,
        at.y,
        t,
        `class="label-hpa" font-size="10.5" text-anchor="${at.anchor}" fill="${COLOUR.hpa}"`
      )
    );
  });
  out.push(...labels);

  // Legend, in the right margin.
  const lx = fr.W - fr.pad.right + 18;
  let ly = fr.pad.top + 14;
  const row = (mark: string, text: string) => {
    out.push(
      `<g class="legend">${mark}<text x="${lx + 30}" y="${ly + 4}" font-size="11.5">${esc(text)}</text></g>`
    );
    ly += 21;
  };
  row(
    `<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${COLOUR.hpa}" stroke-width="2"/><circle cx="${lx + 11}" cy="${ly}" r="4" fill="${COLOUR.hpa}"/>`,
    'HPA, one point per target'
  );
  row(
    `<circle cx="${lx + 5}" cy="${ly}" r="3.5" fill="${COLOUR.prescaler}" fill-opacity="0.55" stroke="${COLOUR.prescaler}"/><circle cx="${lx + 17}" cy="${ly}" r="3.5" fill="#fff" stroke="${COLOUR.prescaler}"/>`,
    'Prescaler: mean / upper band'
  );
  row(
    `<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${COLOUR.prescaler}" stroke-width="2"/>`,
    "Prescaler's Pareto front"
  );
  row(
    `<path d="M${lx + 11},${ly - 7}l7,7l-7,7l-7,-7z" fill="${COLOUR.oracle}"/>`,
    'oracle (knows the future)'
  );
  row(
    `<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${COLOUR.budget}" stroke-width="1.5" stroke-dasharray="7 4"/>`,
    'violation budget'
  );
  row(
    `<circle cx="${lx + 11}" cy="${ly}" r="8" fill="none" stroke="#111" stroke-width="1.6"/>`,
    'chosen, tuned comparison'
  );
  row(
    `<circle cx="${lx + 11}" cy="${ly}" r="8" fill="none" stroke="#111" stroke-width="1.6" stroke-dasharray="3 2"/>`,
    `chosen, default (HPA ${num(DEFAULT_HPA_TARGET, 2)})`
  );
  ly += 8;
  for (const line of [
    'Lower and further left is better.',
    'Settings chosen on the',
    'validation slice; every',
    "point is the test slice's.",
  ]) {
    out.push(`<text x="${lx}" y="${ly}" font-size="11" fill="#555">${esc(line)}</text>`);
    ly += 15;
  }

  return `<svg class="frontier-chart" xmlns="http://www.w3.org/2000/svg" width="${fr.W}" height="${fr.H}" viewBox="0 0 ${fr.W} ${fr.H}" font-family="sans-serif">
${out.join('\n')}
</svg>`;
}

/** A step line through `values` (one per `step` seconds from `start`), the last held to the end. */
function stepPath(
  values: readonly number[],
  start: number,
  step: number,
  sx: (t: number) => number,
  sy: (v: number) => number
): string {
  // Runs of equal (drawn) height become one horizontal move; a non-finite value lifts the pen.
  const parts: string[] = [];
  let lastY: string | undefined;
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) {
      lastY = undefined;
      return;
    }
    const x1 = sx(start + (i + 1) * step).toFixed(1);
    const yy = sy(v).toFixed(1);
    if (lastY === undefined) parts.push(`M${sx(start + i * step).toFixed(1)},${yy}`, `H${x1}`);
    else if (yy === lastY) parts[parts.length - 1] = `H${x1}`;
    else parts.push(`V${yy}`, `H${x1}`);
    lastY = yy;
  });
  return parts.join('');
}

function utc(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' ');
}

/** Chart 2: one test day of demand and each policy's capacity, under the default comparison's settings. */
function sampleDayChart(d: SampleDay, c: Comparison): string {
  const fr: Frame = { W: 1080, H: 360, pad: { left: 78, right: 260, top: 18, bottom: 54 } };
  const n = d.demand.length;
  const t0 = d.start;
  const t1 = d.start + n * d.step;
  const cap = (rs: readonly number[]) => rs.map((r) => r * d.capacityPerReplica);
  const lines = [
    { key: 'hpa', name: `HPA, ${describeSetting(c.hpa.setting)}`, values: cap(d.replicas.hpa) },
    { key: 'prescaler', name: 'Prescaler, default comparison', values: cap(d.replicas.prescaler) },
    { key: 'oracle', name: 'oracle', values: cap(d.replicas.oracle) },
  ] as const;
  const yMax = Math.max(1e-9, ...d.demand.filter(Number.isFinite), ...lines.flatMap((l) => l.values));
  const y = linearAxis(0, yMax * 1.06, fr.H - fr.pad.bottom, fr.pad.top, 'cores', 6);
  const sx = (t: number) => fr.pad.left + ((t - t0) / (t1 - t0)) * (fr.W - fr.pad.left - fr.pad.right);
  const ticks: Axis['ticks'] = [];
  for (let t = Math.ceil(t0 / 10800) * 10800; t <= t1; t += 10800) {
    const hh = new Date(t * 1000).toISOString().slice(11, 16);
    ticks.push({
      v: t,
      label: hh === '00:00' ? `${new Date(t * 1000).toISOString().slice(5, 10)} ${hh}` : hh,
    });
  }
  const x: Axis = { at: sx, ticks, title: `time (UTC, hours), from ${utc(t0)} UTC` };
  const out: string[] = [axes(fr, x, y)];
  const base = y.at(0).toFixed(1);
  const demandLine = stepPath(d.demand, t0, d.step, sx, y.at);
  out.push(
    `<path class="demand-area" d="${demandLine}V${base}H${sx(t0).toFixed(1)}Z" fill="#000" fill-opacity="0.07" stroke="none"/>`,
    `<path class="demand" d="${demandLine}" fill="none" stroke="${COLOUR.demand}" stroke-width="1"/>`
  );
  for (const l of lines) {
    out.push(
      `<path class="capacity-${l.key}" d="${stepPath(l.values, t0, d.step, sx, y.at)}" fill="none" stroke="${COLOUR[l.key]}" stroke-width="${l.key === 'oracle' ? 1.2 : 1.6}"${l.key === 'oracle' ? ' stroke-dasharray="5 3"' : ''}/>`
    );
  }
  const lx = fr.W - fr.pad.right + 18;
  let ly = fr.pad.top + 14;
  const replicaHours = (rs: readonly number[]) => (rs.reduce((a, r) => a + r, 0) * d.step) / 3600;
  out.push(
    `<g class="legend"><rect x="${lx}" y="${ly - 6}" width="22" height="12" fill="#000" fill-opacity="0.07" stroke="${COLOUR.demand}"/><text x="${lx + 30}" y="${ly + 4}" font-size="11.5">demand (cores)</text></g>`
  );
  ly += 21;
  for (const l of lines) {
    const rs = d.replicas[l.key];
    out.push(
      `<g class="legend"><line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${COLOUR[l.key]}" stroke-width="2"${l.key === 'oracle' ? ' stroke-dasharray="5 3"' : ''}/><text x="${lx + 30}" y="${ly + 4}" font-size="11.5">${esc(l.key === 'hpa' ? 'HPA' : l.key === 'prescaler' ? 'Prescaler' : 'oracle')} (${num(replicaHours(rs))} replica-h)</text></g>`
    );
    ly += 21;
  }
  ly += 8;
  for (const line of [
    'Capacity = replicas asked for',
    `× ${num(d.capacityPerReplica, 2)} core per replica.`,
  ]) {
    out.push(`<text x="${lx}" y="${ly}" font-size="11" fill="#555">${esc(line)}</text>`);
    ly += 15;
  }
  return `<svg class="sample-day-chart" xmlns="http://www.w3.org/2000/svg" width="${fr.W}" height="${fr.H}" viewBox="0 0 ${fr.W} ${fr.H}" font-family="sans-serif">
${out.join('\n')}
</svg>`;
}

function comparisonRows(name: string, rule: string, c: Comparison): string {
  const rows: string[] = [];
  const cells = (p: FrontierPoint) =>
    `<td>${num(p.replicaHours)}</td><td>${num(p.violationMinutes)}</td><td>${p.lateScaleUps}</td><td>${num(p.meanRecoveryMinutes)}</td>`;
  const bound = c.hpa.replicaHours > 0 ? 1 - c.oracle.replicaHours / c.hpa.replicaHours : NaN;
  rows.push(
    `<tr class="row-${name}-hpa"><th rowspan="3" class="comparison">${esc(name)}<div class="rule">${esc(rule)}</div></th>` +
      `<td class="policy hpa">HPA</td><td class="setting">${esc(describeSetting(c.hpa.setting))}</td>${cells(c.hpa)}` +
      `<td>${num(c.chosenOn.hpa.violationMinutes)}</td><td>–</td><td>–</td><td>–</td></tr>`,
    `<tr class="row-${name}-prescaler"><td class="policy prescaler">Prescaler</td><td class="setting">${esc(describeSetting(c.prescaler.setting))}</td>${cells(c.prescaler)}` +
      `<td>${num(c.chosenOn.prescaler.violationMinutes)}</td><td class="saving"><b>${pct(c.saving)}</b></td>` +
      `<td class="ci">[${pct(c.savingCi95[0])}, ${pct(c.savingCi95[1])}]</td>` +
      `<td class="gap">${c.gapCaptured === null ? 'n/a (the oracle saves nothing)' : pct(c.gapCaptured)}</td></tr>`,
    `<tr class="row-${name}-oracle"><td class="policy oracle">oracle</td><td class="setting">${esc(describeSetting(c.oracle.setting))}</td>${cells(c.oracle)}` +
      `<td>–</td><td title="what any forecaster could save at most">${pct(bound)} (bound)</td><td>–</td><td>–</td></tr>`
  );
  return rows.join('\n');
}

function headline(name: string, c: Comparison): string {
  return (
    `Against ${name} (${esc(describeSetting(c.hpa.setting))}), Prescaler (${esc(describeSetting(c.prescaler.setting))}) ` +
    `uses ${pct(Math.abs(c.saving))} ${c.saving >= 0 ? 'fewer' : 'more'} replica-hours: ` +
    `saving <b>${pct(c.saving)}</b> (95 % interval ${pct(c.savingCi95[0])} to ${pct(c.savingCi95[1])}), ` +
    `at ${num(c.prescaler.violationMinutes)} violation minutes against HPA's ${num(c.hpa.violationMinutes)}; ` +
    `gap to the oracle captured: ${c.gapCaptured === null ? 'n/a' : pct(c.gapCaptured)}.`
  );
}

export function frontierReportHtml(
  f: FrontierResult,
  meta: { title: string; command?: string; model?: string }
): string {
  const { tuned, default: byDefault } = f.comparison;
  const skipped = f.skipped.length
    ? `<p class="skipped">Skipped: ${f.skipped.map((s) => `${esc(s.series)} (${esc(s.reason)})`).join('; ')}.</p>`
    : '';
  const day = f.sampleDay;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(meta.title)}</title>
<style>body{font-family:sans-serif;margin:24px;max-width:1100px;color:#111}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td.policy,td.setting,th.comparison{text-align:left}th.comparison{font-weight:bold;vertical-align:top}
.rule{font-weight:normal;font-size:11px;color:#555;max-width:220px}td.hpa{color:${COLOUR.hpa}}
td.prescaler{color:${COLOUR.prescaler}}td.oracle{color:${COLOUR.oracle}}code{font-size:12px;word-break:break-all}
p{line-height:1.4}svg{display:block;margin:8px 0}</style>
</head><body>
<h1>${esc(meta.title)}</h1>
<p class="slices"><b>Settings were chosen on the validation slice; every figure on this page is the test slice's</b>
(${num(f.evaluatedHours)} h pooled over ${f.series} series; validation slice ${num(f.validationHours)} h).
Forecaster: ${esc(meta.model ?? 'not given')}.
Violation budget B = ${num(BUDGET_FRACTION * 100)} % of evaluated minutes: ${num(f.budget.violationMinutes)} min on the test slice,
${num(f.budget.validationViolationMinutes)} min on the validation slice.</p>
<p class="headline">${headline('the tuned HPA', tuned)}<br>${headline('HPA at the default target', byDefault)}</p>
${skipped}
<h2>Cost against violations, test slice</h2>
${frontierChart(f)}
<h2>The two comparisons</h2>
<table class="comparisons"><thead><tr><th>comparison</th><th>policy</th><th>setting</th><th>replica-hours</th><th>violation minutes</th>
<th>late scale-ups</th><th>mean recovery (min)</th><th>validation violation minutes (chosen by)</th><th>saving vs HPA (replica-hours)</th><th>95 % interval</th><th>gap captured</th></tr></thead>
<tbody>
${comparisonRows('tuned', `each the cheapest setting within B = ${num(f.budget.validationViolationMinutes)} validation violation minutes`, tuned)}
${comparisonRows('default', `HPA at ${num(DEFAULT_HPA_TARGET, 2)}; Prescaler the cheapest setting within its ${num(byDefault.chosenOn.violationLimit)} validation violation minutes`, byDefault)}
</tbody></table>
<p>Saving = 1 − Prescaler / HPA replica-hours; its 95 % interval from a bootstrap over whole test days.
Gap captured = (HPA − Prescaler) / (HPA − oracle) replica-hours. The oracle row's saving is the most any forecaster could save.
Late scale-ups: violations that began where the policy had not asked for enough capacity one start-up earlier.</p>
<h2>A test day: demand and capacity</h2>
${
  day
    ? `<p>${esc(day.series)}, the first test day (${esc(utc(day.start))} UTC, one value per ${num(day.step / 60, 0)} min), under the default comparison's settings:
HPA ${esc(describeSetting(byDefault.hpa.setting))}; Prescaler ${esc(describeSetting(byDefault.prescaler.setting))}.</p>
${sampleDayChart(day, byDefault)}`
    : '<p class="no-sample-day">No series had a test day long enough to draw.</p>'
}
${meta.command ? `<p>Reproduce this page: <code>${esc(meta.command)}</code></p>` : ''}
</body></html>
`;
}
