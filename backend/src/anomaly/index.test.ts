import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PrescalerError } from '../errors';
import { resample } from '../series/resample';
import type { Point, Segment } from '../series/types';
import { fitDetector } from './detector';
import type { FeatureConfig } from './features';
import {
  historyNeeded,
  historyToRead,
  loadAnomalyModel,
  loadServedAnomalyModel,
  saveAnomalyModel,
  ScoreBatch,
  scoreSegments,
  type AnomalyMetadata,
} from './index';
import { ScoreMemo } from './score-memo';
import { mulberry32 } from '../series/random';

const STEP = 600;
const cfg: FeatureConfig = {
  window: 24,
  shortWindow: 3,
  names: ['value', 'diff', 'zscore', 'spread_ratio'],
  seasonSeconds: 86400,
  seasonToleranceSeconds: 1800,
};

function values(n: number, seed: number): number[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => 2 + Math.sin((2 * Math.PI * i) / 144) + 0.2 * (r() - 0.5));
}

const { detector } = fitDetector(
  [1, 2].map((k) => ({ name: `s${k}`, step: STEP, values: values(600, k) })),
  { features: cfg, seed: 1, nTrees: 40 }
);
const meta: Omit<AnomalyMetadata, 'forestSha256'> = {
  id: 'prescaler-iforest',
  version: '0.0.1-test',
  createdAt: '2026-01-01T00:00:00Z',
  algorithm: 'test',
  training: { method: 'test', step: '600', datasets: [], featureRows: 0 },
  features: cfg,
  forest: { nTrees: 40, sampleSize: 256, heightLimit: 8, seed: 1 },
  threshold: { value: detector.threshold, policy: detector.thresholdPolicy },
  onsetSeconds: detector.onsetSeconds,
};

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-anomaly-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('loadAnomalyModel', () => {
  it('loads what saveAnomalyModel wrote, scoring identically', () => {
    saveAnomalyModel(dir, detector, meta);
    const model = loadAnomalyModel(dir);
    expect(model.id).toBe('prescaler-iforest');
    expect(model.version).toBe('0.0.1-test');
    const seg = { start: 0, step: STEP, values: values(300, 5) };
    const again = scoreSegments(model, [seg]);
    const direct = scoreSegments({ ...model, detector }, [seg]);
    expect(again).toEqual(direct);
  });

  it('names the file and the fault when something is missing or corrupt', () => {
    expect(() => loadAnomalyModel(dir)).toThrow(`${path.join(dir, 'metadata.json')}: file not found`);
    saveAnomalyModel(dir, detector, meta);
    fs.rmSync(path.join(dir, 'forest.json'));
    expect(() => loadAnomalyModel(dir)).toThrow(`${path.join(dir, 'forest.json')}: file not found`);
    saveAnomalyModel(dir, detector, meta);
    fs.writeFileSync(path.join(dir, 'forest.json'), '{"trees": [');
    expect(() => loadAnomalyModel(dir)).toThrow(/forest\.json: not valid JSON/);
    const forest = JSON.parse(
      fs.readFileSync(path.join(saveAnomalyModel(dir, detector, meta) && dir, 'forest.json'), 'utf8')
    );
    fs.writeFileSync(path.join(dir, 'forest.json'), JSON.stringify({ ...forest, threshold: 0.1 }));
    expect(() => loadAnomalyModel(dir)).toThrow(/forest\.json: SHA-256 .* does not match/);
    fs.writeFileSync(path.join(dir, 'metadata.json'), '{oops');
    expect(() => loadAnomalyModel(dir)).toThrow(/metadata\.json: not valid JSON/);
    fs.writeFileSync(path.join(dir, 'metadata.json'), JSON.stringify({ id: 'x' }));
    expect(() => loadAnomalyModel(dir)).toThrow(/metadata\.json: "version" missing/);
  });

  it('serves no detector fitted on forecast residuals: the server computes none', () => {
    const residual = {
      ...detector,
      features: { ...cfg, names: [...cfg.names.slice(1), 'residual' as const] },
    };
    saveAnomalyModel(dir, residual, { ...meta, features: residual.features });
    expect(loadAnomalyModel(dir).detector.features.names).toContain('residual');
    expect(() => loadServedAnomalyModel(dir)).toThrow(/fitted with the "residual" feature/);
    saveAnomalyModel(dir, detector, meta);
    expect(loadServedAnomalyModel(dir).detector.features).toEqual(cfg);
  });

  it('reports a forest that parses but is malformed', () => {
    const bad = JSON.stringify({ features: cfg, threshold: 0.6, forest: { format: 'nope' } });
    const sha = crypto.createHash('sha256').update(bad).digest('hex');
    fs.writeFileSync(path.join(dir, 'forest.json'), bad);
    fs.writeFileSync(path.join(dir, 'metadata.json'), JSON.stringify({ ...meta, forestSha256: sha }));
    expect(() => loadAnomalyModel(dir)).toThrow(/forest\.json: unknown forest format/);
  });
});

describe('scoreSegments', () => {
  const model = { id: 'prescaler-iforest', version: 't', detector, metadata: meta as AnomalyMetadata };

  it('scores every point with enough past, in [0, 1], and lists those over the threshold', () => {
    const v = values(400, 8);
    v[350] += 3;
    const points: Point[] = v.map((x, i) => [1_700_000_400 + i * STEP, x]);
    const segments = resample(points, STEP);
    const r = scoreSegments(model, segments);
    const need = historyNeeded(model, STEP) / STEP;
    expect(need).toBe(24 + 144 + 3);
    expect(r.scores).toHaveLength(400 - need);
    expect(r.scores[0][0]).toBe(points[need][0]);
    for (const [, s] of r.scores) expect(s >= 0 && s <= 1).toBe(true);
    expect(r.threshold).toBe(detector.threshold);
    expect(r.anomalies.map((a) => a[0])).toContain(points[350][0]);
    const spike = r.anomalies.find((a) => a[0] === points[350][0])!;
    expect(spike[1]).toBe(v[350]);
  });

  it('scores a range read with historyToRead of warm-up exactly as a long stream scores it', () => {
    // A breakout look-back shorter than the features' (theirs decides) and one longer (it decides).
    for (const lookbackSteps of [50, 320]) {
      const breakout = { tolerance: 0.05, lookbackSeconds: lookbackSteps * STEP };
      const damped = { ...model, detector: { ...detector, onsetSeconds: 6 * STEP, breakout } };
      const v = values(760, 9);
      for (const i of [420, 423, 425, 600]) v[i] += 2.5; // spikes close together: damping matters
      // 700 breaks out of the 177 points before it (the features' history and the damping's), not of the
      // 320 before it, which hold 480.
      v[480] += 8;
      v[700] += 5;
      const points: Point[] = v.map((x, i) => [1_700_000_400 + i * STEP, x]);
      const stream = new Map(scoreSegments(damped, resample(points, STEP)).scores.map(([t, s]) => [t, s]));
      const warm = historyToRead(damped, STEP);
      expect(warm).toBe(Math.max(historyNeeded(damped, STEP), lookbackSteps * STEP) + 6 * STEP);
      for (const first of [424, 426, 600, 700]) {
        const from = points[first][0] - warm;
        const r = scoreSegments(
          damped,
          resample(
            points.filter(([t]) => t >= from),
            STEP
          )
        );
        const got = r.scores.find(([t]) => t === points[first][0]);
        expect(got?.[1]).toBe(stream.get(points[first][0]));
      }
      // With only the features' history, the range's first point is scored otherwise than in the stream:
      // its damping misses the scores before it, and (longer look-back) the rule misses v[480].
      for (const first of lookbackSteps > 177 ? [426, 700] : [426]) {
        const short = points.filter(([t]) => t >= points[first][0] - historyNeeded(damped, STEP));
        const r = scoreSegments(damped, resample(short, STEP));
        expect(r.scores[0][1]).not.toBe(stream.get(points[first][0]));
      }
      // 700 breaks out of the last 50 points; not of the last 320, which hold 480.
      if (lookbackSteps > 177) expect(stream.get(points[700][0])).toBeLessThan(1);
      else expect(stream.get(points[700][0])).toBe(1);
    }
  });

  it('with `from`, scores only the points from it on, as scoring everything would', () => {
    // Damping over whole steps, and over 1.5 and 0.5 steps (rounded to 2 and 1 points).
    for (const onsetSteps of [6, 1.5, 0.5]) {
      const damped = { ...model, detector: { ...detector, onsetSeconds: onsetSteps * STEP } };
      const v = values(500, 4);
      for (const i of [300, 303, 420, 497]) v[i] += 2.5;
      const points: Point[] = v.map((x, i) => [1_700_000_400 + i * STEP, x]);
      const all = scoreSegments(damped, resample(points, STEP)).scores;
      for (const first of [171, 304, 420, 498, 499, 500]) {
        const from = points[first]?.[0] ?? points[499][0] + STEP;
        const some = scoreSegments(damped, resample(points, STEP), { from }).scores;
        expect(some).toEqual(all.filter(([t]) => t >= from));
      }
    }
  });

  it('skips segments that are too short but scores the others', () => {
    const r = scoreSegments(model, [
      { start: 0, step: STEP, values: values(50, 1) },
      { start: 200 * STEP, step: STEP, values: values(250, 2) },
    ]);
    expect(r.scores).toHaveLength(250 - 171);
    expect(r.scores[0][0]).toBe(200 * STEP + 171 * STEP);
  });

  it('throws insufficient_history when no segment is long enough', () => {
    try {
      scoreSegments(model, [{ start: 0, step: STEP, values: values(144, 1) }]);
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(PrescalerError);
      expect((e as PrescalerError).code).toBe('insufficient_history');
      expect((e as Error).message).toMatch(
        /need 172 evenly spaced points .*28\.5 h .*longest segment has 144/
      );
    }
    expect(() => scoreSegments(model, [])).toThrow(/no data points/);
  });

  it('scores 1000 series of 320 points quickly', () => {
    const segs = Array.from({ length: 1000 }, (_, k) => ({ start: 0, step: STEP, values: values(320, k) }));
    const t0 = Date.now();
    for (const s of segs) scoreSegments(model, [s]);
    // A generous bound for a shared CI machine; `npm run bench` reports the real figure.
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});

describe('ScoreBatch', () => {
  const model = { id: 'prescaler-iforest', version: 't', detector, metadata: meta as AnomalyMetadata };
  const series = (n: number, seed: number, start = 1_700_000_400): Segment[] => {
    const v = values(n, seed);
    v[n - 20] += 3;
    return resample(
      v.map((x, i) => [start + i * STEP, x] as Point),
      STEP
    );
  };

  it('gives each series what scoreSegments gives it, and nothing before it is scored', async () => {
    const batch = new ScoreBatch(model);
    const inputs = [series(400, 1), series(300, 2), series(100, 3), series(500, 4)];
    const from = 1_700_000_400 + 250 * STEP;
    const added = inputs.map((segments) => batch.add(segments, { from }));
    expect(batch.pendingRows).toBeGreaterThan(0);
    expect(() => batch.served(added[0])).toThrow(/before score/);
    expect(await batch.score()).toBe('in_process');
    inputs.forEach((segments, k) => {
      if (k === 2) {
        expect(() => batch.served(added[k])).toThrow(/need 172 evenly spaced points/);
        expect(() => scoreSegments(model, segments, { from })).toThrow(/need 172 evenly spaced points/);
      } else expect(batch.served(added[k])).toEqual(scoreSegments(model, segments, { from }));
    });
    expect(() => batch.add(inputs[0])).toThrow(/after score/);
  });

  it('with a memo session, the next answer scores only its new points and serves the same scores', async () => {
    const memo = new ScoreMemo(1 << 24);
    const labels = { pod: 'a' };
    const stream = values(401, 5);
    stream[395] += 3;
    const answer = async (k: number) => {
      const session = memo.session('q', detector);
      const batch = new ScoreBatch(model, { memo: session });
      const start = 1_700_000_400 + k * STEP;
      const segments = [{ start, step: STEP, values: stream.slice(k, k + 400) }];
      const from = start + 200 * STEP;
      const a = batch.add(segments, { from, labels });
      await batch.score();
      session.done();
      expect(batch.served(a)).toEqual(scoreSegments(model, segments, { from }));
      return session.stats;
    };
    const need = historyNeeded(model, STEP) / STEP;
    expect(await answer(0)).toEqual({ reused: 0, scored: 400 - need });
    // A step later the range has moved by one point: only the new one goes through the forest.
    expect(await answer(1)).toEqual({ reused: 399 - need, scored: 1 });
  });
});

const SHIPPED = path.resolve(__dirname, '../../../models/anomaly');
(fs.existsSync(path.join(SHIPPED, 'metadata.json')) ? describe : describe.skip)('the shipped model', () => {
  it('loads, and its metadata says what it was trained on and how it scored', () => {
    const model = loadAnomalyModel(SHIPPED);
    expect(model.id).toMatch(/^prescaler/);
    const m = model.metadata;
    expect(m.training.datasets.length).toBeGreaterThan(0);
    for (const d of m.training.datasets) expect(d.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.training.datasets.map((d) => d.file)).not.toContain('nab-aws-cloudwatch.csv');
    expect(m.threshold.value).toBe(model.detector.threshold);
  });
});
