/** How the frontier report (frontier-report.ts) writes figures, settings and times, and its colours. */
import type { FrontierPoint, Setting } from './frontier';
import { COLORS } from './report';

export const COLOUR = {
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

/** A Unix time as `YYYY-MM-DD HH:MM` (UTC). */
export function utc(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' ');
}
