/**
 * POST /api/whatif: replays a configured target's recent history through the Kubernetes HPA, Prescaler
 * and an oracle — the simulation of `npm run simulate` (docs/definitions.md) over the source's real data — and,
 * beside it, the cost at equal violations (docs/definitions.md) over the same range (`npm run simulate -- --frontier`'s
 * `comparison`). The replays run in a worker thread, one request at a time, so they never stall the
 * requests served beside them.
 *
 * What the comparison splits: the points of the range asked for (default the last 7 days), by time, 70 %
 * warm-up / 10 % validation / 20 % test (`sliceTimes`). The forecaster's own history (its `historyPoints`
 * at its step, ~8 days for the shipped LSTM) is read separately, from before the range: it only fills the
 * forecaster's windows, so forecasts at the start of the range see a full history as the live loop's do;
 * it is never replayed, scored or used to scale demand.
 */
import express from 'express';
import { z } from 'zod';
import type { Config, TargetConfig } from '../../config';
import type { WhatifAnswer, WhatifComparison, WhatifPoint } from '../../contract/api';
import { ms } from '../../contract/time';
import { PrescalerError, quoted } from '../../errors';
import {
  sliceTimes,
  type Comparison,
  type FrontierPoint,
  type FrontierResult,
} from '../../evaluate/simulate/frontier';
import type { SimulationOptions, SimulationResult } from '../../evaluate/simulate/simulate';
import { frontierInWorker, simulateInWorker } from '../../evaluate/simulate/simulate-worker';
import type { LstmForecaster } from '../../forecast/lstm';
import type { Point } from '../../series/types';
import type { SeriesSource } from '../../sources/types';
import { route } from '../route';
import type { Metrics } from '../metrics';
import { duration, parseBody, time } from '../validate';

export const WHATIF_DEFAULT_RANGE = 7 * 86400;
/** The finest step the history is read at; a longer range gets a coarser multiple of it. */
export const WHATIF_STEP = 60;
/** Replays run one at a time (each takes a core for seconds); this many more may wait for their turn. */
export const WHATIF_MAX_QUEUED = 2;
/** Seconds a client told "busy" is asked to wait: about one long replay. */
export const WHATIF_RETRY_AFTER = 10;
/**
 * The comparison needs the range's data to span at least this long: its validation slice (10 %) is then
 * ≥ 2.4 h and its test slice (20 %) ≥ 4.8 h.
 */
export const WHATIF_MIN_COMPARISON_SPAN = 86400;

export const whatifBodySchema = z
  .object({
    target: z.string().trim().min(1, 'target must name a configured target'),
    start: time.optional(),
    end: time.optional(),
    peakReplicas: z.number().positive().max(10_000).optional(),
    startup: duration
      .refine((s) => s >= 0 && s <= 3600, 'startup must be between 0 and 3600 seconds')
      .optional(),
    targetUtilization: z.number().gt(0).max(1).optional(),
  })
  .strict();

export type WhatifBody = z.infer<typeof whatifBodySchema>;

export interface WhatifDeps {
  config: Config;
  source: SeriesSource;
  /** The loaded forecaster, if any (the route answers 503 without one). */
  forecaster: () => LstmForecaster | undefined;
  forecasterError: () => string | undefined;
  now?: () => number;
  /** Replays that may wait while one runs; default WHATIF_MAX_QUEUED. */
  maxQueued?: number;
  /** Where `prescaler_whatif_simulations` reads the running and waiting replays. */
  metrics?: Metrics;
}

/**
 * At most one holder at a time, and at most `maxQueued` waiting in arrival order; past that, acquire()
 * fails at once (rate_limited) so a burst of clients is told to come back rather than pile up sockets.
 * A waiter whose signal aborts leaves the queue.
 */
export class SimulationSlot {
  private busy = false;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly maxQueued: number) {}

  /** Replays running (0 or 1) and waiting. */
  get load(): { running: number; queued: number } {
    return { running: this.busy ? 1 : 0, queued: this.waiting.length };
  }

  /** Resolves with the release function once the slot is this caller's. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.busy) {
      if (this.waiting.length >= this.maxQueued) {
        throw new PrescalerError(
          'rate_limited',
          `a what-if simulation is already running and ${this.waiting.length} more are waiting (at most ` +
            `1 runs at a time, ${this.maxQueued} may wait): retry in a few seconds`
        );
      }
      await new Promise<void>((resolve, reject) => {
        const turn = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = this.waiting.indexOf(turn);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(turn);
      });
    }
    // A slot handed over by release() stays busy: nobody can slip in between.
    this.busy = true;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.busy = false;
    };
  }
}

/** The range and step the history is read at: 60 s, or the finest multiple of it the points cap allows. */
export function whatifRange(
  body: Pick<WhatifBody, 'start' | 'end'>,
  now: number,
  maxPoints: number,
  forecasterStep: number
): { start: number; end: number; step: number } {
  const end = body.end ?? now;
  // The default range shrinks rather than fail when the points cap cannot hold 7 days at 60 s.
  const start = body.start ?? end - Math.min(WHATIF_DEFAULT_RANGE, (maxPoints - 1) * WHATIF_STEP);
  if (!(start < end)) throw new PrescalerError('bad_request', `start (${start}) must be before end (${end})`);
  const step = Math.max(WHATIF_STEP, Math.ceil((end - start) / (maxPoints - 1) / WHATIF_STEP) * WHATIF_STEP);
  // Coarser than the forecaster's own step, its buckets would be left empty between samples.
  if (step > forecasterStep) {
    throw new PrescalerError(
      'too_large',
      `a range of ${end - start} s needs a step of ${step} s to stay within ${maxPoints} points, coarser ` +
        `than the forecaster's ${forecasterStep} s: shorten the range to at most ${(maxPoints - 1) * forecasterStep} s`
    );
  }
  return { start, end, step };
}

/**
 * Where the forecaster's history is read: the `historyPoints` steps (at the forecaster's step) before the
 * range, at the range's step or the finest multiple of 60 s the points cap allows, never coarser than the
 * forecaster's step (with the points cap below `historyPoints`, the history is cut to what fits at that step).
 * Ends one step before the range, so no point is read twice.
 */
export function whatifHistoryRange(
  range: { start: number; step: number },
  forecaster: { step: number; minHistory: number; historyPoints?: number },
  maxPoints: number
): { start: number; end: number; step: number } {
  const wanted = Math.max(
    forecaster.minHistory,
    forecaster.historyPoints ?? forecaster.minHistory + Math.round(86400 / forecaster.step)
  );
  let seconds = wanted * forecaster.step;
  let step = Math.max(range.step, Math.ceil(seconds / (maxPoints - 1) / WHATIF_STEP) * WHATIF_STEP);
  if (step > forecaster.step) {
    step = Math.max(range.step, forecaster.step);
    seconds = Math.min(seconds, (maxPoints - 1) * step);
  }
  return { start: range.start - seconds, end: range.start - step, step };
}

/**
 * The simulation's options for a target. Without `peakReplicas` the trace keeps its own unit and a replica
 * serves the target's capacityPerReplica, so replica counts are the ones this target would really run
 * (within its own min/max); with it, the trace is rescaled as the CLI does (its peak needs that many
 * replicas) and maxReplicas widened to at least twice that, the CLI's default ratio, so the bound does
 * not cap the experiment.
 */
export function whatifOptions(
  t: TargetConfig,
  evaluation: Config['evaluation'],
  points: readonly Point[],
  body: Pick<WhatifBody, 'peakReplicas' | 'startup' | 'targetUtilization'>
): Partial<SimulationOptions> & { peakReplicas: number } {
  let peak = 0;
  for (const [, v] of points) if (Number.isFinite(v) && v > peak) peak = v;
  if (!(peak > 0)) {
    throw new PrescalerError(
      'insufficient_history',
      `the target's history is zero or empty everywhere: nothing to simulate`
    );
  }
  const minReplicas = Math.max(1, t.minReplicas);
  const peakReplicas = body.peakReplicas ?? peak / t.capacityPerReplica;
  const maxReplicas =
    body.peakReplicas === undefined
      ? Math.max(minReplicas, t.maxReplicas)
      : Math.max(minReplicas, t.maxReplicas, 2 * Math.ceil(body.peakReplicas));
  return {
    peakReplicas,
    capacityPerReplica: t.capacityPerReplica,
    startup: body.startup ?? t.startup,
    hpaTargetUtilization: body.targetUtilization ?? t.targetUtilization,
    minReplicas,
    maxReplicas,
    // Prescaler exactly as this target is configured: the decision the loop makes for it.
    quantile: t.quantile,
    peakQuantile: t.peakQuantile,
    floorUtilization: t.targetUtilization,
    interval: evaluation.interval,
    metricLag: evaluation.metricLag,
    floorTtl: t.floorTtl,
    scaleDownStabilization: t.scaleDownStabilization,
    tolerance: t.tolerance,
  };
}

const finite = (x: number) => (Number.isFinite(x) ? x : null);

/** A frontier point as the CLI's JSON has it (any further field included), non-finite figures as null. */
const frontierPoint = (p: FrontierPoint): WhatifPoint => ({
  ...p,
  replicaHours: finite(p.replicaHours),
  violationMinutes: finite(p.violationMinutes),
  lateScaleUps: finite(p.lateScaleUps),
  meanRecoveryMinutes: finite(p.meanRecoveryMinutes),
});

const comparisonBody = (c: Comparison): WhatifComparison => ({
  ...c,
  hpa: frontierPoint(c.hpa),
  prescaler: frontierPoint(c.prescaler),
  oracle: frontierPoint(c.oracle),
  saving: finite(c.saving),
  savingCi95: c.savingCi95.map(finite) as WhatifComparison['savingCi95'],
  gapCaptured: c.gapCaptured === null ? null : finite(c.gapCaptured),
  chosenOn: {
    hpa: frontierPoint(c.chosenOn.hpa),
    prescaler: frontierPoint(c.chosenOn.prescaler),
    violationLimit: finite(c.chosenOn.violationLimit),
  },
});

/** The 70/10/20 split of the range's points, refused (422) where it leaves too little to choose and score on. */
export function comparisonSlices(points: readonly Point[]): ReturnType<typeof sliceTimes> {
  const times = sliceTimes(points);
  const span = times.end - times.start;
  if (!(span >= WHATIF_MIN_COMPARISON_SPAN)) {
    const hours = Number.isFinite(span) ? (span / 3600).toFixed(1) : '0';
    throw new PrescalerError(
      'insufficient_history',
      `the target's history in the range spans ${hours} h; the comparison at equal violations needs at least ` +
        `${WHATIF_MIN_COMPARISON_SPAN / 3600} h (the last 30 % of it is split into a validation slice, where ` +
        `the settings are chosen, and a test slice, where they are measured): ask for a longer range`
    );
  }
  return times;
}

export function whatifRouter(deps: WhatifDeps): express.Router {
  const { config, source } = deps;
  const now = deps.now ?? (() => Date.now() / 1000);
  const slot = new SimulationSlot(deps.maxQueued ?? WHATIF_MAX_QUEUED);
  if (deps.metrics) deps.metrics.whatifLoad = () => slot.load;
  const r = express.Router();

  r.post(
    '/whatif',
    route(async (req, res) => {
      const body = parseBody(whatifBodySchema, req.body);
      const t = config.targets.find((x) => x.name === body.target);
      if (!t) {
        throw new PrescalerError(
          'not_found',
          `no configured target ${quoted(body.target)}; configured: ${config.targets.map((x) => x.name).join(', ') || 'none'}`
        );
      }
      const forecaster = deps.forecaster();
      if (!forecaster) {
        throw new PrescalerError(
          'not_ready',
          `no forecaster loaded: ${deps.forecasterError() ?? 'unknown reason'}`
        );
      }
      const range = whatifRange(body, now(), config.limits.maxPointsPerSeries, forecaster.step);
      // A client that goes away stops its what-if: the history query, its place in the queue, its worker.
      const ctrl = new AbortController();
      const signal = ctrl.signal;
      res.on('close', () => {
        if (!res.writableFinished) ctrl.abort(new PrescalerError('bad_request', 'client closed the request'));
      });
      // The whole what-if holds the slot, history query included: a request told "busy" costs Prometheus nothing.
      let release: () => void;
      try {
        release = await slot.acquire(signal);
      } catch (e) {
        if (e instanceof PrescalerError && e.code === 'rate_limited')
          res.setHeader('Retry-After', String(WHATIF_RETRY_AFTER));
        throw e;
      }
      const historyRange = whatifHistoryRange(range, forecaster, config.limits.maxPointsPerSeries);
      let points: Point[];
      let history: Point[] = [];
      let options: ReturnType<typeof whatifOptions>;
      let sim: SimulationResult;
      let slices: ReturnType<typeof sliceTimes>;
      let frontier: FrontierResult;
      try {
        const series = await source.queryRange({ query: t.query, ...range }, signal);
        if (series.length === 0) {
          throw new PrescalerError(
            'insufficient_history',
            `the target's query returned no data in the range: ${t.query}`
          );
        }
        if (series.length > 1) {
          throw new PrescalerError(
            'bad_query',
            `the target's query returned ${series.length} series; it must return one (wrap it in sum(...))`
          );
        }
        points = series[0].points;
        options = whatifOptions(t, config.evaluation, points, body);
        slices = comparisonSlices(points);
        // The comparison's demand is scaled by the part before its test slice (as the CLI's): its options
        // take the peak from there, so demand stays in the target's unit.
        let comparisonOptions: ReturnType<typeof whatifOptions>;
        try {
          comparisonOptions = whatifOptions(
            t,
            config.evaluation,
            points.filter(([x]) => x < slices.test),
            body
          );
        } catch (e) {
          if (!(e instanceof PrescalerError)) throw e;
          throw new PrescalerError(
            'insufficient_history',
            `the target's history is zero or empty everywhere before the comparison's test slice ` +
              `(${new Date(slices.test * 1000).toISOString()}): nothing to scale its demand by`
          );
        }
        // The forecaster's history: the same series (same labels) before the range; none is fine.
        const labels = JSON.stringify(series[0].labels);
        const before = await source.queryRange({ query: t.query, ...historyRange }, signal);
        history =
          before.find((s) => JSON.stringify(s.labels) === labels)?.points ??
          (before.length === 1 ? before[0].points : []);
        try {
          sim = await simulateInWorker(points, forecaster, options, { signal });
          frontier = await frontierInWorker(
            { name: t.name, points, history },
            forecaster,
            { simulation: comparisonOptions },
            { signal }
          );
        } catch (e) {
          // The body was checked above: what the simulation refuses now is the history itself.
          if (!signal.aborted && e instanceof PrescalerError && e.code === 'bad_request') {
            throw new PrescalerError(
              'insufficient_history',
              `the target's history cannot be simulated: ${e.message}`
            );
          }
          throw e;
        }
      } finally {
        release();
      }
      res.json({
        target: t.name,
        start: ms(range.start),
        end: ms(range.end),
        step: range.step,
        points: points.length,
        forecaster: {
          name: forecaster.name,
          id: forecaster.metadata.id,
          version: forecaster.metadata.version,
        },
        evaluatedHours: sim.evaluatedHours,
        demandScale: sim.demandScale,
        options: {
          scaling: body.peakReplicas === undefined ? 'capacityPerReplica' : 'peakReplicas',
          peakReplicas: options.peakReplicas,
          capacityPerReplica: options.capacityPerReplica,
          startup: options.startup,
          targetUtilization: options.hpaTargetUtilization,
          minReplicas: options.minReplicas,
          maxReplicas: options.maxReplicas,
          tick: sim.options.tick,
          quantile: sim.options.quantile,
          floorUtilization: sim.options.floorUtilization,
          interval: sim.options.interval,
          metricLag: sim.options.metricLag,
        },
        results: sim.results.map((x) => ({
          policy: x.policy,
          replicaHours: finite(x.replicaHours),
          violationMinutes: finite(x.violationMinutes),
          lateScaleUps: finite(x.lateScaleUps),
          meanRecoveryMinutes: finite(x.meanRecoveryMinutes),
        })),
        comparison: {
          // What was split (the range's points) and what only fed the forecaster (the history before it).
          split: {
            warmUp: { start: ms(slices.start), end: ms(slices.validation) },
            validation: { start: ms(slices.validation), end: ms(slices.test) },
            test: { start: ms(slices.test), end: ms(slices.end) },
          },
          history: {
            start: ms(historyRange.start),
            end: ms(historyRange.end),
            step: historyRange.step,
            points: history.length,
          },
          evaluatedHours: frontier.evaluatedHours,
          validationHours: frontier.validationHours,
          budget: frontier.budget,
          tuned: comparisonBody(frontier.comparison.tuned),
          default: comparisonBody(frontier.comparison.default),
          frontier: {
            hpa: frontier.frontier.hpa.map(frontierPoint),
            prescaler: frontier.frontier.prescaler.map(frontierPoint),
          },
          oracle: frontierPoint(frontier.oracle),
        },
      } satisfies WhatifAnswer);
    })
  );
  return r;
}
