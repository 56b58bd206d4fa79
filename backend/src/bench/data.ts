/** The series the bench backfills into Prometheus, and the queries that read 1, 100 or all of them. */
import type { BackfillSeries } from '../sources/local-prometheus';
import { mulberry32 } from '../series/random';
import type { Point } from '../series/types';
import { round } from './results';

/** Seconds between the points of a forecast request (and of the bench's range queries). */
export const STEP = 600;
export const DAY = 86400;

export function benchSeries(count: number, start: number, end: number, every: number): BackfillSeries[] {
  const rng = mulberry32(7);
  return Array.from({ length: count }, (_, i) => {
    const base = 0.2 + 4 * rng();
    const phase = rng() * DAY;
    const noise = 0.02 + 0.1 * rng();
    const points: Point[] = [];
    for (let t = start; t <= end; t += every) {
      const daily = Math.sin((2 * Math.PI * (t + phase)) / DAY);
      points.push([t, round(Math.max(0, base * (1 + 0.5 * daily) * (1 + noise * (rng() - 0.5))), 4)]);
    }
    return {
      labels: {
        __name__: 'bench_cpu_cores',
        namespace: 'bench',
        pod: `pod-${i}`,
        first100: i < 100 ? 'yes' : 'no',
      },
      points,
    };
  });
}

export const QUERIES: Record<number, string> = {
  1: 'bench_cpu_cores{pod="pod-0"}',
  100: 'bench_cpu_cores{first100="yes"}',
};
export const queryFor = (n: number, total: number) => (n >= total ? 'bench_cpu_cores' : QUERIES[n]);
