import { DemoSource } from './demo';
import { DEMO_SCRAPE_LABELS, demoHistory } from './demo-history';

// Wednesday 2026-03-04 14:00:30 UTC: not on the minute, so the grid's rounding shows.
const END = 1772632830;
const DAY = 86400;

describe('demoHistory', () => {
  const series = demoHistory({ end: END, days: 9, step: 60, seed: 7, labels: DEMO_SCRAPE_LABELS });

  it('gives every demo metric of every demo deployment, labelled as the demo scrape labels them', () => {
    const deployments = DemoSource.deployments();
    expect(series).toHaveLength(2 * deployments.length);
    expect(series[0].labels).toEqual({
      __name__: 'demo_cpu_usage',
      deployment: 'web',
      namespace: 'shop',
      job: 'demo-workload',
      instance: 'demo-workload',
    });
    expect(series.map((s) => `${s.labels.__name__}/${s.labels.deployment}`)).toEqual(
      ['demo_cpu_usage', 'demo_memory_usage'].flatMap((m) => deployments.map((d) => `${m}/${d.deployment}`))
    );
  });

  it('samples a whole-minute grid of 9 days ending at the last minute before the end', () => {
    for (const s of series) {
      expect(s.points).toHaveLength(9 * 1440 + 1);
      expect(s.points.at(-1)![0]).toBe(END - 30);
      expect(s.points[0][0]).toBe(END - 30 - 9 * DAY);
      expect(s.points[1][0] - s.points[0][0]).toBe(60);
    }
  });

  it('holds the values the demo workload exporter serves at those instants', () => {
    const exporter = new DemoSource({ seed: 7 });
    for (const s of series) {
      for (const i of [0, 1234, 9999, s.points.length - 1]) {
        const [t, v] = s.points[i];
        expect(v).toBe(exporter.valueAt(s.labels.__name__ as 'demo_cpu_usage', s.labels.deployment, t));
      }
    }
    const other = demoHistory({ end: END, days: 1, step: 60, seed: 8, labels: {} });
    expect(other[0].points.at(-1)![1]).not.toBe(series[0].points.at(-1)![1]);
  });

  it('refuses a step or a span that is not positive', () => {
    expect(() => demoHistory({ end: END, days: 0, step: 60, labels: {} })).toThrow(RangeError);
    expect(() => demoHistory({ end: END, days: 1, step: 0, labels: {} })).toThrow(RangeError);
  });
});
