/**
 * One decision, two callers: the live loop (`liveDecision`, from a target as PRESCALER_CONFIG gives it) and
 * the simulator's Prescaler (`PrescalerPolicy.decisionFor`, from a forecast track row and the simulation's
 * settings) must decide the same for the same forecast, state and settings.
 */
import { parseTarget } from '../config';
import type { ForecastTrack } from '../evaluate/simulate/forecasts';
import { PrescalerPolicy } from '../evaluate/simulate/policies';
import { liveDecision } from '../loop';
import { mulberry32 } from '../series/random';
import type { ForecastBand, ForecastPoint } from './replicas';

const STEP = 600;
const H = 6;

it('the live loop and the simulator decide identically on 10 000 random inputs', () => {
  const rand = mulberry32(20261207);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  let changes = 0;
  let limited = 0;
  for (let c = 0; c < 10_000; c++) {
    const minReplicas = int(1, 5);
    const raw = {
      name: 'web',
      workload: { kind: pick(['Deployment', 'HorizontalPodAutoscaler']), name: 'web' },
      query: 'x',
      capacityPerReplica: pick([0.25, 0.5, 1, 2]) * (0.5 + rand()),
      targetUtilization: Math.round((0.3 + 0.7 * rand()) * 100) / 100,
      quantile: pick<ForecastBand>(['lower', 'mean', 'upper']),
      peakQuantile: pick<number | 'off'>(['off', 0.5, 0.9]),
      minReplicas,
      maxReplicas: minReplicas + int(0, 60),
      startup: 15 * int(1, 40),
      scaleDownStabilization: pick([0, 60, 300, 600]),
      tolerance: pick([0, 0.05, 0.1, 0.2]),
      ...(rand() < 0.3 ? { maxStepUp: int(1, 8) } : {}),
      ...(rand() < 0.3 ? { maxStepDown: int(1, 8) } : {}),
    };
    const target = parseTarget(raw);
    const evaluation = {
      interval: 15 * int(1, 20),
      metricLag: pick([0, 15, 30, 60]),
      recommendationTtl: 900,
    };
    const scale = pick([0.5, 1, 2, 4]); // powers of two: the track's values × scale are exact
    const origin = 1_800_000_000 + STEP * int(0, 1000);
    const now = origin + 15 * int(0, 40);
    const forecast: ForecastPoint[] = [];
    const level = 20 * rand() * (rand() < 0.1 ? 0 : 1);
    for (let h = 1; h <= H; h++) {
      const mean = Math.max(0, level + 5 * (rand() - 0.5));
      forecast.push([origin + h * STEP, mean, mean * (0.5 + 0.5 * rand()), mean * (1 + rand())]);
    }
    const currentReplicas = int(0, 70);
    const recent = Array.from({ length: int(0, 6) }, () => ({
      at: now - int(0, 700),
      replicas: int(0, 70),
    }));
    const peakFactor = rand() < 0.3 ? 1 : 1 + 2 * rand();
    const nominal = pick([undefined, 0.8, 0.9]);

    const live = liveDecision({ evaluation }, target, {
      origin,
      now,
      forecast,
      currentReplicas,
      recent,
      peakFactor,
      nominal,
    });

    const track: ForecastTrack = {
      forecaster: 'random',
      step: STEP,
      horizons: H,
      // A track's origin is the start of its last observed bucket, one step before the live origin.
      origins: [origin - STEP],
      mean: Float64Array.from(forecast.map((p) => p[1] / scale)),
      lower: Float64Array.from(forecast.map((p) => p[2] / scale)),
      upper: Float64Array.from(forecast.map((p) => p[3] / scale)),
    };
    const policy = new PrescalerPolicy(
      { start: origin, tick: 15, demand: [], ready: [], initialReady: 0 },
      {
        tick: 15,
        capacityPerReplica: target.capacityPerReplica,
        startup: target.startup,
        minReplicas: target.minReplicas,
        maxReplicas: target.maxReplicas,
      },
      {
        targetUtilization: 0.9,
        tolerance: 0.1,
        metricLag: evaluation.metricLag,
        metricWindow: 15,
        cpuInitializationPeriod: 300,
        behavior: null,
        utilizationCap: 1,
      },
      {
        forecasts: track,
        scale,
        setting: { quantile: target.quantile, utilization: target.targetUtilization, hpaTarget: 0.9 },
        deployment: {
          interval: evaluation.interval,
          floorTtl: 1800,
          approvalDelay: 0,
          scaleDownStabilization: target.scaleDownStabilization,
          tolerance: target.tolerance,
          maxStepUp: target.maxStepUp,
          maxStepDown: target.maxStepDown,
        },
        maxForecastAge: STEP,
        nominal,
      }
    );
    const simulated = policy.decisionFor(0, now, currentReplicas, recent, peakFactor);

    expect(simulated).toEqual(live);
    if (live.change) changes++;
    if (live.limitedBy.length) limited++;
  }
  // The inputs reach every branch often: changes, no changes, and each kind of limit.
  expect(changes).toBeGreaterThan(5000);
  expect(changes).toBeLessThan(9900);
  expect(limited).toBeGreaterThan(3000);
});
