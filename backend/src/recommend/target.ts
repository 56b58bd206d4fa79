/**
 * The decision for one configured target: how a target's settings (config.ts `TargetConfig`) and the
 * evaluation's inputs become a `recommendReplicas` call. The live loop and the simulator's Prescaler both
 * come through here, so a replay decides exactly as the product does.
 */
import {
  quantileLabel,
  recommendReplicas,
  type ForecastBand,
  type ForecastPoint,
  type Recommendation,
  type ScalingPolicy,
} from './replicas';

/** The part of a target's configuration the decision reads: its scaling policy and the band it sizes for. */
export type DecisionTarget = ScalingPolicy & { quantile: ForecastBand };

export interface DecisionState {
  /** Seconds between evaluations. */
  interval: number;
  /** Seconds a sample takes to reach the metric store. */
  metricLag: number;
  /** Unix seconds the forecast's horizons count from, and of this evaluation. */
  origin: number;
  now: number;
  forecast: readonly ForecastPoint[];
  currentReplicas: number;
  /** Desired counts of this target's evaluations within its scale-down stabilisation. */
  recent: ReadonlyArray<{ at: number; replicas: number }>;
  /** The series' learned peak-to-mean ratio (`peakToMeanRatio`). */
  peakFactor: number;
  /** The forecaster's nominal band coverage (metadata.interval.nominal), to name the band. */
  nominal?: number;
}

export function decideForTarget(t: DecisionTarget, s: DecisionState): Recommendation {
  return recommendReplicas({
    policy: t,
    interval: s.interval,
    metricLag: s.metricLag,
    origin: s.origin,
    now: s.now,
    forecast: s.forecast,
    currentReplicas: s.currentReplicas,
    recent: s.recent,
    peakFactor: s.peakFactor,
    quantileLabel: quantileLabel(s.nominal, t.quantile),
  });
}
