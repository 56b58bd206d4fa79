import type { Point } from '../series/types';
import { fitForecaster, modelVersion, type DatasetInput, type FitOptions } from './fit';
import { FORECASTER_FORMAT, historyPoints, readForecasterMetadata } from './lstm';
import { initTf } from './tf';

const opts: FitOptions = {
  id: 'test',
  version: 'v',
  step: 600,
  lookback: 8,
  profileDays: 1,
  units: 4,
  seed: 9,
  epochs: 1,
  patience: 1,
  batchSize: 64,
  learningRate: 0.01,
  seriesWeight: 'inverse-change-rms',
  maxPerSeries: 400,
  maxPerDataset: 500,
  maxSeconds: 60,
  trainFraction: 0.8,
  nominal: 0.8,
};

// Four days at 600 s with a daily wave; `test` replaces the values from `from` on (by default the last 20 %,
// the backtest's test part).
function series(
  name: string,
  phase: number,
  test?: (i: number) => number,
  from = 0.8
): { name: string; points: Point[] } {
  const n = 4 * 144;
  return {
    name,
    points: Array.from({ length: n }, (_, i) => {
      const v = 10 + 5 * Math.sin((2 * Math.PI * i) / 144 + phase) + ((i * 7919) % 13) / 13;
      return [1_700_000_000 + i * 600, test && i >= n * from ? test(i) : v] as Point;
    }),
  };
}

const datasets = (test?: (i: number) => number, from?: number): DatasetInput[] => [
  { name: 'one.csv', series: [series('a', 0, test, from)] },
  { name: 'many.csv', series: [1, 2, 3, 4].map((k) => series(`m${k}`, k, test, from)) },
];

// Two small trainings per test: quick alone, but give them room on a shared machine.
jest.setTimeout(30_000);

beforeAll(() => initTf());

describe('fitForecaster', () => {
  it('never reads the test part: changing it changes nothing', async () => {
    const a = await fitForecaster(datasets(), opts);
    const b = await fitForecaster(
      datasets((i) => 1e6 * Math.cos(i)),
      opts
    );
    expect(b.result.trainLoss).toBe(a.result.trainLoss);
    expect(b.result.valLoss).toBe(a.result.valLoss);
    expect(b.metadata.interval).toEqual(a.metadata.interval);
    a.forecaster.model.dispose();
    b.forecaster.model.dispose();
  });

  it('with trainFraction 0.7 never reads the last 30 % (the simulation validation and test slices)', async () => {
    const o = { ...opts, trainFraction: 0.7 };
    const a = await fitForecaster(datasets(), o);
    const b = await fitForecaster(
      datasets((i) => 1e6 * Math.cos(i), 0.7),
      o
    );
    expect(b.result.trainLoss).toBe(a.result.trainLoss);
    expect(b.result.valLoss).toBe(a.result.valLoss);
    expect((a.metadata.training as { split: string }).split).toBe(
      'per series by time: first 60 % train, next 11 % validation, last 30 % never read (test part)'
    );
    // …while at 0.8 the same change reaches what training reads.
    const c = await fitForecaster(
      datasets((i) => 1e6 * Math.cos(i), 0.7),
      opts
    );
    const d = await fitForecaster(datasets(), opts);
    expect(c.result.trainLoss).not.toBe(d.result.trainLoss);
    for (const f of [a, b, c, d]) f.forecaster.model.dispose();
  });

  it('balances windows across datasets and describes itself in valid metadata', async () => {
    const { forecaster, metadata } = await fitForecaster(datasets(), opts);
    const training = metadata.training as {
      windows: { train: number };
      datasets: unknown[];
      seriesUsed: number;
    };
    // 'one.csv' gives all its windows (under 400), 'many.csv' at most 500 / 4 per series.
    const perSeries = Math.floor(4 * 144 * 0.8 * 0.85) - opts.lookback - 6 + 1;
    expect(training.windows.train).toBe(Math.min(perSeries, 400) + 4 * Math.min(perSeries, 125));
    expect(training.datasets).toEqual([
      { name: 'one.csv', series: 1 },
      { name: 'many.csv', series: 4 },
    ]);
    expect(metadata.format).toBe(FORECASTER_FORMAT);
    expect(metadata.historyPoints).toBe(historyPoints(metadata));
    // One profile day behind the last day of h-step errors (and their 6-step reach), plus the 3-point average.
    expect(forecaster.historyPoints).toBe(144 + 1 + 144 + 6);
    // Round trip through the schema the loader checks.
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-fit-'));
    try {
      fs.writeFileSync(path.join(dir, 'metadata.json'), JSON.stringify(metadata));
      expect(readForecasterMetadata(dir).historyPoints).toBe(metadata.historyPoints);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    forecaster.model.dispose();
  });

  it('names the version after the data it saw and the weights it learnt', () => {
    const d = new Date('2026-01-02T00:00:00Z');
    const data = (sha256: string) => [{ name: 'x', sha256, series: [] }];
    const w = [Float32Array.of(0.5, -1)];
    expect(modelVersion(data('ab'), w, d)).toMatch(/^2026-01-02-[0-9a-f]{8}$/);
    expect(modelVersion(data('ab'), w, d)).toBe(modelVersion(data('ab'), [Float32Array.of(0.5, -1)], d));
    expect(modelVersion(data('ab'), w, d)).not.toBe(modelVersion(data('cd'), w, d));
    expect(modelVersion(data('ab'), w, d)).not.toBe(
      modelVersion(data('ab'), [Float32Array.of(0.5, -1.5)], d)
    );
  });
});
