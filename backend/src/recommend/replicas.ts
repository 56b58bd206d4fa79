/**
 * Forecast → replica count: the one scaling decision Prescaler makes. The live loop (`loop.ts`), the
 * simulator (`evaluate/simulate/policies.ts`) and `/api/whatif` all call `recommendReplicas`, so a replay
 * shows what the product would have done. The way an SRE would reason: enough replicas for a chosen
 * quantile of the forecast's *peak* over the time a new pod needs to become useful (start-up + the time
 * the decision holds + the metric's lag), each bucket's forecast raised by the series' own peak-to-mean
 * ratio, at a planned utilisation; inside the target's bounds, limited in step size, held back on the way
 * down, and unchanged when the difference is within tolerance. Pure.
 */

import type { ReplicaLimit } from '../contract/api';
import type { ForecastPoint } from '../forecast/serve';

/** [t seconds, mean, lower, upper]: one forecast horizon, as forecast/serve.ts gives it. */
export type { ForecastPoint };

/** Which band of the forecast is sized for: the LSTM's lower, mean and upper are p10, p50 and p90. */
export type ForecastBand = 'lower' | 'mean' | 'upper';

export interface ScalingPolicy {
  capacityPerReplica: number;
  /** Utilisation a replica is planned to run at when demand reaches the chosen band's peak. */
  targetUtilization: number;
  /** The band sized for (default upper). */
  quantile?: ForecastBand;
  minReplicas: number;
  maxReplicas: number;
  /** Pod start-up, seconds. */
  startup: number;
  maxStepUp?: number;
  maxStepDown?: number;
  /** Seconds over which the highest earlier desired count holds a scale-down back. */
  scaleDownStabilization: number;
  /** Relative change of load per replica below which nothing changes (0.1 = 10 %). */
  tolerance: number;
  unit?: string;
}

export interface RecommendInput {
  policy: ScalingPolicy;
  /** Seconds between evaluations: a decision holds until the next one, so it must cover that too. */
  interval: number;
  /** Unix seconds of the last observed point: horizons count from here. */
  origin: number;
  forecast: readonly ForecastPoint[];
  currentReplicas: number;
  /** Desired counts (before limits) of earlier evaluations, for scale-down stabilisation. */
  recent: ReadonlyArray<{ at: number; replicas: number }>;
  /** When this evaluation happens (for the stabilisation window); defaults to origin. */
  now?: number;
  /** How to name the chosen band in the reason, e.g. "p90". */
  quantileLabel?: string;
  /** Seconds between the demand a sample describes and the decision that reads it (default 0). */
  metricLag?: number;
  /**
   * Peak within a forecast bucket over the bucket's mean, learned from the series' own recent history
   * (`peakToMeanRatio`); ≥ 1, default 1 (size for the bucket means).
   */
  peakFactor?: number;
}

export interface Recommendation {
  recommendedReplicas: number;
  /** ⌈demand / (capacity × utilisation)⌉ clamped to bounds, before tolerance, stabilisation and steps. */
  desiredReplicas: number;
  /** The chosen band × peak factor at its highest within the lead time. */
  demand: number;
  demandAt: number;
  /** Start-up + interval + metric lag, seconds: how far ahead from `now` the decision must hold. */
  leadTime: number;
  peakFactor: number;
  /** Which rules changed the raw count, in order. */
  limitedBy: ReplicaLimit[];
  change: boolean;
  reason: string;
}

/** The forecast points that fall within the lead time; at least the first one, so a short lead still looks ahead. */
export function leadWindow(
  forecast: readonly ForecastPoint[],
  origin: number,
  leadTime: number
): ForecastPoint[] {
  const within = forecast.filter(([t]) => t - origin <= leadTime + 1e-9);
  if (within.length) {
    // Also take the first point at or beyond the lead time, so the window covers the whole lead.
    const next = forecast.find(([t]) => t - origin > leadTime + 1e-9);
    return next && within[within.length - 1][0] - origin < leadTime ? [...within, next] : within;
  }
  return forecast.length ? [forecast[0]] : [];
}

const BAND_INDEX = { mean: 1, lower: 2, upper: 3 } as const;

const fmt = (v: number) =>
  Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toPrecision(2);

function minutes(seconds: number): string {
  const m = Math.round(seconds / 60);
  return m >= 120 && m % 60 === 0 ? `${m / 60} h` : `${m} min`;
}

export function recommendReplicas(input: RecommendInput): Recommendation {
  const { policy: p, forecast, origin, currentReplicas: current } = input;
  const now = input.now ?? origin;
  const leadTime = p.startup + input.interval + (input.metricLag ?? 0);
  const peakFactor = input.peakFactor ?? 1;
  if (!(peakFactor >= 1 && Number.isFinite(peakFactor)))
    throw new RangeError(`peakFactor must be a finite number ≥ 1 (got ${peakFactor})`);
  // Horizons count from the forecast's origin; the decision must hold from now, which may be later.
  const window = leadWindow(forecast, origin, leadTime + Math.max(0, now - origin));
  if (!window.length) throw new RangeError('recommendReplicas needs at least one forecast point');
  const band = BAND_INDEX[p.quantile ?? 'upper'];
  let demandAt = window[0][0];
  let demand = window[0][band];
  for (const point of window) {
    if (point[band] > demand) [demand, demandAt] = [point[band], point[0]];
  }
  if (!Number.isFinite(demand))
    throw new RangeError(`forecast ${p.quantile ?? 'upper'} band is not finite (${demand})`);
  demand = Math.max(0, demand) * peakFactor;

  const perReplica = p.capacityPerReplica * p.targetUtilization;
  const exact = demand / perReplica;
  // A hair above an integer from float noise must not buy a whole replica.
  const raw = Math.ceil(exact - 1e-9);
  const limitedBy: Recommendation['limitedBy'] = [];
  const clamp = (n: number) => {
    if (n < p.minReplicas) {
      limitedBy.push('min');
      return p.minReplicas;
    }
    if (n > p.maxReplicas) {
      limitedBy.push('max');
      return p.maxReplicas;
    }
    return n;
  };
  const desired = clamp(raw);
  let next = desired;
  const notes: string[] = [];
  if (limitedBy.includes('min')) notes.push(`raised to the minimum of ${p.minReplicas}`);
  if (limitedBy.includes('max')) notes.push(`capped at the maximum of ${p.maxReplicas}`);

  // Tolerance: the load per replica now would be within ±tolerance of the target; moving buys nothing.
  const currentInBounds = current >= p.minReplicas && current <= p.maxReplicas;
  if (currentInBounds && current > 0 && next !== current && Math.abs(exact / current - 1) <= p.tolerance) {
    limitedBy.push('tolerance');
    notes.push(`within the ${Math.round(p.tolerance * 100)} % tolerance of ${current}`);
    next = current;
  }

  // Scale-down stabilisation: never go below the highest count wanted within the window (HPA's rule).
  if (next < current) {
    const since = now - p.scaleDownStabilization;
    const held = Math.min(
      current,
      input.recent.filter((r) => r.at >= since && r.at <= now).reduce((m, r) => Math.max(m, r.replicas), next)
    );
    if (held > next) {
      limitedBy.push('stabilization');
      notes.push(`held at ${held} by the ${minutes(p.scaleDownStabilization)} scale-down stabilisation`);
      next = held;
    }
  }

  // Steps count from the current count brought inside the bounds: bounds are never a step away.
  const base = Math.min(p.maxReplicas, Math.max(p.minReplicas, current));
  if (p.maxStepUp !== undefined && next > base + p.maxStepUp) {
    limitedBy.push('maxStepUp');
    next = base + p.maxStepUp;
    notes.push(`step limited to +${p.maxStepUp}`);
  }
  if (p.maxStepDown !== undefined && next < base - p.maxStepDown) {
    limitedBy.push('maxStepDown');
    next = base - p.maxStepDown;
    notes.push(`step limited to −${p.maxStepDown}`);
  }
  next = Math.min(p.maxReplicas, Math.max(p.minReplicas, next));

  const unit = p.unit ? ` ${p.unit}` : '';
  const q = input.quantileLabel ?? p.quantile ?? 'upper';
  const peak = peakFactor > 1 ? ` (peak ×${peakFactor.toFixed(2)})` : '';
  const head =
    `${q} forecast${peak} ${fmt(demand)}${unit} in ${minutes(demandAt - origin)} (lead ${minutes(leadTime)}) → ` +
    `${desired} replica${desired === 1 ? '' : 's'} at ${Math.round(p.targetUtilization * 100)} %; now ${current}`;
  const change = next !== current;
  const tail = change
    ? notes.length
      ? `; ${notes.join('; ')} → ${next}`
      : ''
    : notes.length
      ? `; ${notes.join('; ')}; no change`
      : '; no change';
  return {
    recommendedReplicas: next,
    desiredReplicas: desired,
    demand,
    demandAt,
    leadTime,
    peakFactor,
    limitedBy,
    change,
    reason: head + tail,
  };
}

/** A band's name from the forecaster's nominal two-sided coverage: upper at 0.8 → "p90", mean → "p50". */
export function quantileLabel(nominal: number | undefined, band: ForecastBand = 'upper'): string {
  if (band === 'mean') return 'p50';
  if (nominal === undefined || !(nominal > 0 && nominal < 1)) return band;
  const p = band === 'upper' ? (1 + nominal) / 2 : (1 - nominal) / 2;
  return `p${Math.round(p * 100)}`;
}
