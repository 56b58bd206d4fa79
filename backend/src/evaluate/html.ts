/** Helpers shared by the self-contained HTML reports (backtest, simulation frontier): escaping and axis ticks. */

/** Escapes text for HTML content and attribute values (numeric entities, so it is safe inside SVG too). */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Ticks at a "nice" spacing (1, 2 or 5 × 10^k) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const stepSize = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / stepSize) * stepSize; v <= hi + 1e-12; v += stepSize)
    out.push(Number(v.toPrecision(12)));
  return out;
}
