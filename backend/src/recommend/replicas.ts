/**
 * Forecast → replica count, the way an SRE would reason about it: enough replicas for the forecast's
 * upper quantile over the time a new pod needs to become useful, inside the target's bounds, limited
 * in step size, slow to scale down, and unchanged when the difference is within tolerance. Pure.
 */

/** [t seconds, mean, lower, upper]: one forecast horizon (forecast/serve.ts). */
export type ForecastPoint = [t: number, v: number, lower: number, upper: number];

export interface ScalingPolicy {
  capacityPerReplica: number;
  targetUtilization: number;
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
  /** How to name the upper band in the reason, e.g. "p90". */
  quantileLabel?: string;
}

export interface Recommendation {
  recommendedReplicas: number;
  /** ⌈demand / (capacity × utilisation)⌉ clamped to bounds, before tolerance, stabilisation and steps. */
  desiredReplicas: number;
  /** The forecast's upper quantile at its highest within the lead time. */
  demand: number;
  demandAt: number;
  /** Start-up + interval, seconds. */
  leadTime: number;
  /** Which rules changed the raw count, in order. */
  limitedBy: Array<'min' | 'max' | 'tolerance' | 'stabilization' | 'maxStepUp' | 'maxStepDown'>;
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

const fmt = (v: number) =>
  Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toPrecision(2);

function minutes(seconds: number): string {
  const m = Math.round(seconds / 60);
  return m >= 120 && m % 60 === 0 ? `${m / 60} h` : `${m} min`;
}

export function recommendReplicas(input: RecommendInput): Recommendation {
  const { policy: p, forecast, origin, currentReplicas: current } = input;
  const now = input.now ?? origin;
  const leadTime = p.startup + input.interval;
  const window = leadWindow(forecast, origin, leadTime);
  if (!window.length) throw new RangeError('recommendReplicas needs at least one forecast point');
  let [demandAt, , , demand] = window[0];
  for (const [t, , , upper] of window) {
    if (upper > demand) [demand, demandAt] = [upper, t];
  }
  if (!Number.isFinite(demand)) throw new RangeError(`forecast upper quantile is not finite (${demand})`);
  demand = Math.max(0, demand);

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
  const q = input.quantileLabel ?? 'upper';
  const head =
    `${q} forecast ${fmt(demand)}${unit} in ${minutes(demandAt - origin)} → ${desired} replica${desired === 1 ? '' : 's'} ` +
    `at ${Math.round(p.targetUtilization * 100)} %; now ${current}`;
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
    limitedBy,
    change,
    reason: head + tail,
  };
}

/** Upper-band name from the forecaster's nominal two-sided coverage: 0.8 → "p90". */
export function quantileLabel(nominal: number | undefined): string {
  if (nominal === undefined || !(nominal > 0 && nominal < 1)) return 'upper';
  return `p${Math.round(((1 + nominal) / 2) * 100)}`;
}
