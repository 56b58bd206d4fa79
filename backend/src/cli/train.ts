/**
 * `npm run train -- --data FILE [--data FILE …] [--out models/forecaster] [--seed 42]`
 * Trains the global LSTM on canonical CSVs (or raw formats) and writes the layers model + metadata.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadSeriesFile } from '../data/loaders';
import { fileSystemHandler } from '../forecast/io';
import { FEATURES, type ForecasterMetadata } from '../forecast/lstm';
import { initTf, tf } from '../forecast/tf';
import { trainLstm } from '../forecast/train';
import { buildWindows, seededRandom, splitSeries, type SeriesInput } from '../forecast/windows';
import { fail, numberOption, parseCli, progress } from './args';

const NAME = 'train';
const USAGE = `usage: npm run train -- --data FILE [--data FILE …] [options]

  --data FILE         canonical CSV (series,timestamp,value) or a raw format; repeatable
  --out DIR           where to write the model (default models/forecaster)
  --seed N            seed for initialisation, sampling and shuffling (default 42)
  --step S            resampling step in seconds (default 600)
  --lookback N        history points per window (default 24)
  --units N           LSTM units (default 32)
  --epochs N          most epochs (default 40); early stopping on validation loss
  --patience N        epochs without improvement before stopping (default 4)
  --max-per-series N  most training windows taken from one series (default 3000)
  --max-minutes M     stop training after M minutes (default 8)
  --id ID             model id (default prescaler-lstm)
`;

async function main(): Promise<void> {
  const opts = parseCli(NAME, USAGE, {
    data: { type: 'string', multiple: true },
    out: { type: 'string' },
    seed: { type: 'string' },
    step: { type: 'string' },
    lookback: { type: 'string' },
    units: { type: 'string' },
    epochs: { type: 'string' },
    patience: { type: 'string' },
    'max-per-series': { type: 'string' },
    'max-minutes': { type: 'string' },
    id: { type: 'string' },
  });
  const files = opts.data ?? [];
  if (files.length === 0) fail(NAME, `give at least one --data FILE\n\n${USAGE}`);
  const seed = numberOption(NAME, 'seed', opts.seed, 42);
  const step = numberOption(NAME, 'step', opts.step, 600);
  const cfg = {
    step,
    lookback: numberOption(NAME, 'lookback', opts.lookback, 24),
    horizons: Math.round(3600 / step),
    seasonPeriod: Math.round(86400 / step),
  };
  const out = path.resolve(opts.out ?? 'models/forecaster');

  const series: SeriesInput[] = [];
  const datasets: Array<{ name: string; sha256: string; series: number }> = [];
  for (const file of files) {
    let loaded;
    try {
      loaded = loadSeriesFile(file);
    } catch (e) {
      fail(NAME, (e as Error).message);
    }
    const bytes = fs.readFileSync(file);
    datasets.push({
      name: path.basename(file),
      sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
      series: loaded.length,
    });
    series.push(...loaded.map((s) => ({ name: s.name, points: s.points })));
    process.stderr.write(`read ${file}: ${loaded.length} series\n`);
  }

  const { split, skipped } = splitSeries(series, { step });
  if (split.length === 0) fail(NAME, 'no usable series (all constant or too short)');
  const rng = seededRandom(seed);
  const maxPerSeries = numberOption(NAME, 'max-per-series', opts['max-per-series'], 3000);
  const train = buildWindows(split.map((s) => s.train), cfg, { maxPerSeries, rng });
  const val = buildWindows(split.map((s) => s.validation), cfg, { maxPerSeries: Math.ceil(maxPerSeries / 4), rng });
  process.stderr.write(
    `${split.length} series (${skipped.length} skipped), ${train.count} training and ${val.count} validation windows\n`
  );

  const epochs = numberOption(NAME, 'epochs', opts.epochs, 40);
  const result = await trainLstm(train, val, {
    ...cfg,
    units: numberOption(NAME, 'units', opts.units, 32),
    seed,
    epochs,
    batchSize: 256,
    learningRate: 0.002,
    patience: numberOption(NAME, 'patience', opts.patience, 4),
    maxSeconds: numberOption(NAME, 'max-minutes', opts['max-minutes'], 8) * 60,
    nominal: 0.8,
    onEpoch: (e) => {
      const eta = (e.seconds / e.epoch) * (e.epochs - e.epoch);
      progress('epoch', e.epoch, e.epochs, `loss ${e.loss.toExponential(3)} val ${e.valLoss.toExponential(3)} ETA ≤${Math.round(eta)}s`);
    },
  });

  await initTf();
  await result.model.save(fileSystemHandler(out));
  const pkg = (name: string) => {
    try {
      return JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version as string;
    } catch {
      return 'unknown';
    }
  };
  const metadata: ForecasterMetadata = {
    id: opts.id ?? 'prescaler-lstm',
    // The training date and a digest of the data it saw: a retrain on the same data keeps the suffix.
    version: `${new Date().toISOString().slice(0, 10)}-${crypto
      .createHash('sha256')
      .update(datasets.map((d) => d.sha256).join())
      .digest('hex')
      .slice(0, 8)}`,
    format: 'prescaler-lstm/1',
    step,
    lookback: cfg.lookback,
    horizons: cfg.horizons,
    seasonPeriod: cfg.seasonPeriod,
    features: FEATURES,
    target: 'delta-from-last',
    scaler: { kind: 'minmax', fit: 'per series, on the history given at inference; on the first 80 % of each series in training' },
    interval: result.interval,
    training: {
      datasets,
      seriesUsed: split.length,
      seriesSkipped: skipped,
      windows: { train: train.count, validation: val.count },
      split: 'per series by time: first 68 % train, next 12 % validation, last 20 % never read (test part)',
      seed,
      units: numberOption(NAME, 'units', opts.units, 32),
      epochs: result.epochs,
      bestEpoch: result.bestEpoch,
      seconds: Math.round(result.seconds),
    },
    validation: {
      loss: result.valLoss,
      rmse: result.validation.rmse,
      persistenceRmse: result.validation.persistenceRmse,
      intervalCoverage: result.validation.coverage,
    },
    libraries: { '@tensorflow/tfjs': pkg('@tensorflow/tfjs'), backend: tf.getBackend() },
  };
  fs.writeFileSync(path.join(out, 'metadata.json'), JSON.stringify(metadata, null, 2) + '\n');
  process.stderr.write(
    `wrote ${out}: ${result.epochs} epochs (best ${result.bestEpoch}) in ${Math.round(result.seconds)}s; ` +
      `validation rmse@60m ${result.validation.rmse.at(-1)!.toFixed(4)} vs persistence ${result.validation.persistenceRmse.at(-1)!.toFixed(4)}\n`
  );
}

main().catch((e) => fail(NAME, (e as Error).stack ?? String(e)));
