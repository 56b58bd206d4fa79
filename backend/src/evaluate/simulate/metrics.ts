/**
 * The figures docs/definitions.md defines for one policy over one simulated segment, from per-tick demand, ready
 * capacity and requested replicas. Violations are counted per tick: a tick violates when demand > ready
 * capacity. An episode is a run of violating ticks; it lasts until the first tick with capacity ≥ demand
 * (an episode still open at the segment's end counts up to the end).
 */

export interface TickTrace {
  tick: number;
  /** Demand, cores. */
  demand: ArrayLike<number>;
  /** Ready pods per tick. */
  ready: ArrayLike<number>;
  /** Pods asked for (scale.spec.replicas) per tick: what is paid for. */
  replicas: ArrayLike<number>;
  /** Pods asked for before the first tick. */
  initialReplicas: number;
}

export interface SegmentFigures {
  replicaSeconds: number;
  violationSeconds: number;
  /** Each episode's length, seconds. */
  episodes: number[];
  lateScaleUps: number;
  unrecovered: number;
  evaluatedSeconds: number;
}

/**
 * @param from first tick evaluated (earlier ticks only warm the policy up)
 * @param to first tick not evaluated (a later slice); an episode still open there counts up to it, unrecovered
 * @param startup pod start-up, seconds: an episode is late when the replicas asked for one start-up before
 *   its first tick could not have carried that tick's demand.
 */
export function segmentFigures(
  tr: TickTrace,
  capacityPerReplica: number,
  startup: number,
  from = 0,
  to = tr.demand.length
): SegmentFigures {
  const n = Math.min(to, tr.demand.length);
  const lag = Math.ceil(startup / tr.tick - 1e-9);
  const out: SegmentFigures = {
    replicaSeconds: 0,
    violationSeconds: 0,
    episodes: [],
    lateScaleUps: 0,
    unrecovered: 0,
    evaluatedSeconds: Math.max(0, n - from) * tr.tick,
  };
  let open = -1;
  for (let k = from; k < n; k++) {
    out.replicaSeconds += tr.replicas[k] * tr.tick;
    const violating = tr.demand[k] > tr.ready[k] * capacityPerReplica + 1e-9;
    if (violating) {
      out.violationSeconds += tr.tick;
      if (open < 0) {
        open = k;
        const asked = k - lag >= 0 ? tr.replicas[k - lag] : tr.initialReplicas;
        if (asked * capacityPerReplica + 1e-9 < tr.demand[k]) out.lateScaleUps++;
      }
    } else if (open >= 0) {
      out.episodes.push((k - open) * tr.tick);
      open = -1;
    }
  }
  if (open >= 0) {
    out.episodes.push((n - open) * tr.tick);
    out.unrecovered++;
  }
  return out;
}

export interface PolicyResult {
  policy: string;
  replicaHours: number;
  violationMinutes: number;
  lateScaleUps: number;
  meanRecoveryMinutes: number;
}

export interface PolicyDetail {
  policy: string;
  /** Violation episodes (runs of violating ticks). */
  violations: number;
  /** Episodes still open when a segment ended (their recovery is counted up to that end). */
  unrecovered: number;
  /** Mean replicas paid for over the evaluated time. */
  meanReplicas: number;
}

/** Sums segments: totals add up, the mean recovery is over all episodes pooled (0 when there are none). */
export function combineFigures(
  policy: string,
  parts: SegmentFigures[]
): { result: PolicyResult; detail: PolicyDetail } {
  let replicaSeconds = 0;
  let violationSeconds = 0;
  let late = 0;
  let unrecovered = 0;
  let evaluated = 0;
  const episodes: number[] = [];
  for (const p of parts) {
    replicaSeconds += p.replicaSeconds;
    violationSeconds += p.violationSeconds;
    late += p.lateScaleUps;
    unrecovered += p.unrecovered;
    evaluated += p.evaluatedSeconds;
    episodes.push(...p.episodes);
  }
  const meanRecovery = episodes.length ? episodes.reduce((a, b) => a + b, 0) / episodes.length / 60 : 0;
  return {
    result: {
      policy,
      replicaHours: replicaSeconds / 3600,
      violationMinutes: violationSeconds / 60,
      lateScaleUps: late,
      meanRecoveryMinutes: meanRecovery,
    },
    detail: {
      policy,
      violations: episodes.length,
      unrecovered,
      meanReplicas: evaluated > 0 ? replicaSeconds / evaluated : 0,
    },
  };
}
