/** The frontier report's SVG parts: axes (linear and symlog), label placement, lines and step lines. */
import { esc, niceTicks } from '../html';
import { num } from './frontier-report-format';

export interface Axis {
  /** Value → pixel. */
  at: (v: number) => number;
  ticks: Array<{ v: number; label: string; minor?: boolean }>;
  title: string;
}

/** Decimals enough to tell a tick spacing apart: 0.5 → 1, 20 → 0. */
function decimalsFor(step: number): number {
  return step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step) - 1e-9));
}

export function linearAxis(lo: number, hi: number, from: number, to: number, title: string, count = 6): Axis {
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

export function violationAxis(values: number[], from: number, to: number): Axis & { symlog: boolean } {
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

export interface Frame {
  W: number;
  H: number;
  pad: { left: number; right: number; top: number; bottom: number };
}

/** Grid, ticks, tick labels and axis titles of a chart. */
export function axes(fr: Frame, x: Axis, y: Axis): string {
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
export class Placer {
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
export function label(x: number, y: number, text: string, attrs: string): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" stroke="#fff" stroke-width="3" paint-order="stroke" ${attrs}>${esc(text)}</text>`;
}

export function polyline(pts: Array<[number, number]>): string {
  return pts.map(([x, y], i) => `${i ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`).join('');
}

/** A step line through `values` (one per `step` seconds from `start`), the last held to the end. */
export function stepPath(
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
