/**
 * Demand for the simulation: a trace's points split at gaps into contiguous segments, each linearly
 * interpolated onto the simulation tick, in cores scaled so the trace's peak needs `peakReplicas` replicas
 * at 100 % of `capacityPerReplica`.
 */
import { PrescalerError } from '../../errors';
import type { Point } from '../../series/types';

export interface DemandSegment {
  /** Unix seconds of tick 0. */
  start: number;
  tick: number;
  /** Demand in cores per tick. */
  values: Float64Array;
}

export interface DemandSplit {
  segments: DemandSegment[];
  /** Cores per unit of the trace's value. */
  scale: number;
  /** Median spacing of the input points, seconds. */
  spacing: number;
  /** Segments too short for one tick interval, left out. */
  skippedSegments: number;
  /** Non-finite samples dropped. */
  dropped: number;
}

export interface DemandOptions {
  tick: number;
  peakReplicas: number;
  capacityPerReplica: number;
  /** Only points before this time (Unix seconds) set the scale; default all. */
  scaleUntil?: number;
  /** Points further apart than this many median spacings start a new segment. Default 2 (docs/definitions.md). */
  maxGapSpacings?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Throws PrescalerError('bad_request') on input no simulation can use: < 2 points, negative or all-zero demand. */
export function demandSegments(points: readonly Point[], opts: DemandOptions): DemandSplit {
  const finite = points.filter(([t, v]) => Number.isFinite(t) && Number.isFinite(v));
  const dropped = points.length - finite.length;
  finite.sort((a, b) => a[0] - b[0]);
  const pts: Point[] = [];
  for (const p of finite) if (!pts.length || pts[pts.length - 1][0] !== p[0]) pts.push(p);
  if (pts.length < 2) {
    throw new PrescalerError('bad_request', `demand needs at least 2 finite points, got ${pts.length}`);
  }
  let peak = 0;
  const until = opts.scaleUntil ?? Infinity;
  for (const [t, v] of pts) {
    if (v < 0) throw new PrescalerError('bad_request', `demand must not be negative (got ${v})`);
    if (v > peak && t < until) peak = v;
  }
  if (!(peak > 0))
    throw new PrescalerError(
      'bad_request',
      opts.scaleUntil === undefined
        ? 'demand is zero everywhere: there is nothing to scale'
        : 'demand is zero everywhere before the scored part: there is nothing to scale it by'
    );
  const scale = (opts.peakReplicas * opts.capacityPerReplica) / peak;

  const gaps: number[] = [];
  for (let i = 1; i < pts.length; i++) gaps.push(pts[i][0] - pts[i - 1][0]);
  const spacing = median(gaps);
  const maxGap = (opts.maxGapSpacings ?? 2) * spacing;

  const segments: DemandSegment[] = [];
  let skipped = 0;
  let from = 0;
  for (let i = 1; i <= pts.length; i++) {
    if (i < pts.length && pts[i][0] - pts[i - 1][0] <= maxGap) continue;
    const seg = pts.slice(from, i);
    from = i;
    const span = seg[seg.length - 1][0] - seg[0][0];
    if (seg.length < 2 || span < opts.tick) {
      skipped++;
      continue;
    }
    const n = Math.floor(span / opts.tick) + 1;
    const values = new Float64Array(n);
    let j = 0;
    for (let k = 0; k < n; k++) {
      const t = seg[0][0] + k * opts.tick;
      while (j < seg.length - 2 && seg[j + 1][0] <= t) j++;
      const [t0, v0] = seg[j];
      const [t1, v1] = seg[j + 1];
      const w = t1 > t0 ? Math.min(1, Math.max(0, (t - t0) / (t1 - t0))) : 0;
      values[k] = (v0 + (v1 - v0) * w) * scale;
    }
    segments.push({ start: seg[0][0], tick: opts.tick, values });
  }
  return { segments, scale, spacing, skippedSegments: skipped, dropped };
}
