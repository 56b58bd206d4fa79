/**
 * The demo load model's past as Prometheus would have scraped it from the demo workload exporter: every
 * demo metric of every demo deployment, on a fixed grid, with the labels the demo stack's scrape gives
 * them (so the backfilled past and the live scrape are one series).
 */
import type { BackfillSeries } from './local-prometheus';
import { DEMO_METRICS, DemoSource } from './demo';

export interface DemoHistoryOptions {
  /** Unix seconds of the last sample (rounded down to the step). */
  end: number;
  /** Days of history before `end`. */
  days: number;
  /** Seconds between samples. */
  step: number;
  seed?: number;
  /** Labels every series gets besides `__name__`, `deployment` and `namespace` (the scrape's job, instance). */
  labels: Record<string, string>;
}

/** The scrape labels of the demo stack's `demo-workload` job (provisioning/prometheus/prometheus.yml). */
export const DEMO_SCRAPE_LABELS = { job: 'demo-workload', instance: 'demo-workload' } as const;

export function demoHistory(opts: DemoHistoryOptions): BackfillSeries[] {
  if (!(opts.step > 0) || !(opts.days > 0)) throw new RangeError('step and days must be positive');
  const demo = new DemoSource({ seed: opts.seed, now: () => opts.end });
  const last = Math.floor(opts.end / opts.step) * opts.step;
  const first = last - Math.floor((opts.days * 86400) / opts.step) * opts.step;
  const out: BackfillSeries[] = [];
  for (const metric of DEMO_METRICS) {
    for (const { deployment, namespace } of DemoSource.deployments()) {
      const points: Array<[number, number]> = [];
      for (let t = first; t <= last; t += opts.step) points.push([t, demo.valueAt(metric, deployment, t)]);
      out.push({ labels: { ...opts.labels, __name__: metric, deployment, namespace }, points });
    }
  }
  return out;
}
