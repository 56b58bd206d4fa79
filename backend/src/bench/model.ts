/** The forecaster the bench measures, and the inference rows (the fast path against tfjs). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FIT_DEFAULTS, fitForecaster } from '../forecast/fit';
import { fileSystemHandler } from '../forecast/io';
import { loadForecaster, type LstmForecaster } from '../forecast/lstm';
import { FastLstm, UnsupportedModelError } from '../forecast/fast-lstm';
import type { HistoryWindow } from '../forecast/types';
import { mulberry32 } from '../series/random';
import type { Point } from '../series/types';
import { STEP } from './data';
import { add, percentile, say } from './results';

/**
 * The shipped forecaster, or (when it does not load with this build, e.g. mid-retrain) an untrained
 * stand-in of the default architecture in a temp models dir: speed does not depend on trained weights.
 */
export async function prepareModels(
  modelsDir: string,
  tmp: string
): Promise<{ dir: string; forecaster: LstmForecaster; note: string }> {
  try {
    const forecaster = await loadForecaster(path.join(modelsDir, 'forecaster'));
    return {
      dir: modelsDir,
      forecaster,
      note: `shipped model ${forecaster.metadata.id}@${forecaster.metadata.version}`,
    };
  } catch (e) {
    say(
      `the model in ${modelsDir}/forecaster does not load (${(e as Error).message}); benchmarking an untrained stand-in`
    );
  }
  const rng = mulberry32(3);
  const series = Array.from({ length: 4 }, (_, s) => ({
    name: `synthetic-${s}`,
    points: Array.from({ length: 14 * 144 }, (_, i): Point => [
      1_700_000_000 + i * STEP,
      1 + Math.sin(i / 23 + s) + 0.1 * rng(),
    ]),
  }));
  const { forecaster, metadata } = await fitForecaster([{ name: 'synthetic', series }], {
    ...FIT_DEFAULTS,
    id: 'bench-stand-in',
    version: 'untrained',
    epochs: 1,
  });
  const dir = path.join(tmp, 'models');
  await forecaster.model.save(fileSystemHandler(path.join(dir, 'forecaster')));
  fs.writeFileSync(path.join(dir, 'forecaster', 'metadata.json'), JSON.stringify(metadata));
  fs.cpSync(path.join(modelsDir, 'anomaly'), path.join(dir, 'anomaly'), { recursive: true });
  return { dir, forecaster, note: 'untrained stand-in of the default architecture' };
}

export async function benchInference(forecaster: LstmForecaster, batch: number): Promise<void> {
  const need = Math.max(forecaster.minHistory, (forecaster as { historyPoints?: number }).historyPoints ?? 0);
  const rng = mulberry32(11);
  const windows: HistoryWindow[] = Array.from({ length: batch }, (_, b) => {
    const phase = rng() * 6;
    return {
      values: Float64Array.from(
        { length: need },
        (_, i) => 0.5 + 0.4 * Math.sin(phase + i / 20) + 0.05 * rng()
      ),
      endTime: 1_700_000_000 + b * STEP,
    };
  });
  const time = async (runs: number, fn: () => Promise<unknown>) => {
    for (let i = 0; i < 3; i++) await fn();
    const us: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      await fn();
      us.push(((performance.now() - t0) * 1000) / batch);
    }
    return percentile(us, 50);
  };
  const fast = forecaster.fast;
  if (fast instanceof FastLstm) {
    add('inference_us_per_series', await time(15, () => forecaster.predictBatch(windows)), 'µs');
    // The network alone (no feature building), on random input of its shape.
    const { timesteps, features } = fast.spec;
    const input = Float32Array.from({ length: batch * timesteps * features }, () => rng());
    add('inference_network_us_per_series', await time(15, async () => fast.predict(input, batch)), 'µs');
  } else {
    say(`no fast path for this model (${fast.message}); inference_us_per_series is tfjs`);
  }
  // The reference: the same forecaster with its fast path switched off.
  const tfjsOnly = Object.create(forecaster, {
    fast: { value: new UnsupportedModelError('reference') },
  }) as LstmForecaster;
  const tfjs = await time(5, () => tfjsOnly.predictBatch(windows));
  if (!(fast instanceof FastLstm)) add('inference_us_per_series', tfjs, 'µs');
  add('inference_us_per_series_tfjs', tfjs, 'µs');
}
