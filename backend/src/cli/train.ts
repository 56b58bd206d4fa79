/**
 * `npm run train -- --data FILE [--data FILE …] [--out models/forecaster] [--seed 42]`
 * Trains the global LSTM on canonical CSVs (or raw formats) and writes the layers model + metadata.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FIT_DEFAULTS, fitForecaster, type DatasetInput, type FitOptions } from '../forecast/fit';
import { fileSystemHandler } from '../forecast/io';
import { initTf } from '../forecast/tf';
import { fail, numberOption, parseCli, progress } from './args';
import {
  ANOMALY_TRAINING_DEFAULTS,
  readTrainingFile,
  trainAnomalyModel,
  type TrainingFile,
} from './train-anomaly';

const NAME = 'train';
const D = FIT_DEFAULTS;
const USAGE = `usage: npm run train -- --data FILE [--data FILE …] [options]

Trains the LSTM forecaster and the Isolation Forest anomaly detector on the same data (the forest leaves
out labelled series: those are for scoring it).

  --data FILE          canonical CSV (series,timestamp,value) or a raw format, or a directory of them;
                       repeatable
  --out DIR            where to write the forecaster (default models/forecaster)
  --anomaly-out DIR    where to write the anomaly detector (default models/anomaly)
  --only WHICH         train only the forecaster or only the anomaly detector
  --seed N             seed for initialisation, sampling and shuffling (default ${D.seed})
  --step S             resampling step in seconds (default ${D.step})
  --lookback N         history points per window (default ${D.lookback})
  --profile-days N     past days averaged into the daily-profile features (default ${D.profileDays})
  --units N            LSTM units (default ${D.units})
  --epochs N           most epochs (default ${D.epochs}); early stopping on validation loss
  --patience N         epochs without improvement before stopping (default ${D.patience})
  --batch-size N       windows per gradient step (default ${D.batchSize})
  --learning-rate X    Adam learning rate (default ${D.learningRate})
  --huber X            Huber loss with this delta instead of squared error
  --series-weight W    loss weight of a series' windows: inverse-change-rms (1 / its hour-ahead change
                       RMS, so calm series count as much as volatile ones) or equal (default ${D.seriesWeight})
  --max-per-series N   most training windows taken from one series (default ${D.maxPerSeries})
  --max-per-dataset N  most training windows taken from one file (default ${D.maxPerDataset})
  --max-minutes M      stop training after M minutes (default ${D.maxSeconds / 60})
  --train-fraction F   part of each series training reads, in time order (default ${D.trainFraction}; the
                       simulator's cost-at-equal-violations replays need 0.7: its validation slice starts there)
  --id ID              model id (default prescaler-lstm)
`;

function trainFraction(f: number): number {
  if (!(f > 0.1 && f <= 1)) fail(NAME, `--train-fraction must be in (0.1, 1], got ${f}`);
  return f;
}

/** Reads and fingerprints the files once, for both models; exits with a message naming a file that fails. */
function readFiles(name: string, files: string[]): TrainingFile[] {
  return files.map((file) => {
    let read;
    try {
      read = readTrainingFile(file);
    } catch (e) {
      fail(name, (e as Error).message);
    }
    process.stderr.write(`read ${file}: ${read.series.length} series\n`);
    return read;
  });
}

function parseOptions() {
  return parseCli(NAME, USAGE, {
    data: { type: 'string', multiple: true },
    out: { type: 'string' },
    'anomaly-out': { type: 'string' },
    only: { type: 'string' },
    seed: { type: 'string' },
    step: { type: 'string' },
    lookback: { type: 'string' },
    'profile-days': { type: 'string' },
    units: { type: 'string' },
    epochs: { type: 'string' },
    patience: { type: 'string' },
    'batch-size': { type: 'string' },
    'learning-rate': { type: 'string' },
    huber: { type: 'string' },
    'series-weight': { type: 'string' },
    'max-per-series': { type: 'string' },
    'max-per-dataset': { type: 'string' },
    'max-minutes': { type: 'string' },
    'train-fraction': { type: 'string' },
    id: { type: 'string' },
  });
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const files = opts.data ?? [];
  if (files.length === 0) fail(NAME, `give at least one --data FILE\n\n${USAGE}`);
  const only = opts.only;
  if (only !== undefined && only !== 'forecaster' && only !== 'anomaly') {
    fail(NAME, `--only must be forecaster or anomaly, not ${only}`);
  }
  const num = (key: keyof typeof opts, fallback: number) =>
    numberOption(NAME, key, opts[key] as string | undefined, fallback);
  const seed = num('seed', D.seed);
  if (!Number.isInteger(seed)) fail(NAME, `--seed must be an integer, got ${seed}`);
  // Every option is checked before the first file is read: a typo fails in a second, not after the forest.
  const fit = only === 'anomaly' ? undefined : forecasterOptions(opts, num, seed);
  const read = readFiles(NAME, files);
  // Both models or neither: the forest (seconds) is fitted first into a scratch directory, and moved into
  // place only once the forecaster (minutes) is written, so a failure in either leaves models/ as it was.
  let forest: { scratch: string; out: string } | undefined;
  if (only !== 'forecaster') {
    const out = path.resolve(opts['anomaly-out'] ?? 'models/anomaly');
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-anomaly-'));
    // However the process ends (fail() exits at once), the scratch directory goes with it.
    process.once('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));
    try {
      await trainAnomalyModel(read, { ...ANOMALY_TRAINING_DEFAULTS, seed, out: scratch });
    } catch (e) {
      fail(NAME, `anomaly detector: ${(e as Error).message}`);
    }
    forest = { scratch, out };
  }
  if (fit) await trainForecaster(path.resolve(opts.out ?? 'models/forecaster'), read, fit);
  if (forest) {
    fs.mkdirSync(forest.out, { recursive: true });
    fs.cpSync(forest.scratch, forest.out, { recursive: true });
    process.stderr.write(`wrote ${forest.out}: anomaly detector\n`);
  }
}

function forecasterOptions(
  opts: ReturnType<typeof parseOptions>,
  num: (key: keyof ReturnType<typeof parseOptions>, fallback: number) => number,
  seed: number
): FitOptions {
  const seriesWeight = opts['series-weight'] ?? D.seriesWeight;
  if (seriesWeight !== 'inverse-change-rms' && seriesWeight !== 'equal') {
    fail(NAME, `--series-weight must be inverse-change-rms or equal, not ${seriesWeight}`);
  }
  return {
    id: opts.id ?? 'prescaler-lstm',
    step: num('step', D.step),
    lookback: num('lookback', D.lookback),
    profileDays: num('profile-days', D.profileDays),
    units: num('units', D.units),
    seed,
    epochs: num('epochs', D.epochs),
    patience: num('patience', D.patience),
    batchSize: num('batch-size', D.batchSize),
    learningRate: num('learning-rate', D.learningRate),
    huberDelta: opts.huber === undefined ? undefined : num('huber', 0),
    seriesWeight,
    maxPerSeries: num('max-per-series', D.maxPerSeries),
    maxPerDataset: num('max-per-dataset', D.maxPerDataset),
    maxSeconds: num('max-minutes', D.maxSeconds / 60) * 60,
    trainFraction: trainFraction(num('train-fraction', D.trainFraction)),
    nominal: D.nominal,
    onInfo: (m) => process.stderr.write(`${m}\n`),
    onEpoch: (e) => {
      const eta = (e.seconds / e.epoch) * (e.epochs - e.epoch);
      progress(
        'epoch',
        e.epoch,
        e.epochs,
        `loss ${e.loss.toExponential(3)} val ${e.valLoss.toExponential(3)} ETA ≤${Math.round(eta)}s`
      );
    },
  };
}

async function trainForecaster(out: string, read: TrainingFile[], fit: FitOptions): Promise<void> {
  const datasets: DatasetInput[] = read.map(({ file, sha256, series }) => ({
    name: path.basename(file),
    sha256,
    series: series.map((s) => ({ name: s.name, points: s.points })),
  }));
  await initTf();
  const { forecaster, metadata, result } = await fitForecaster(datasets, fit);

  await forecaster.model.save(fileSystemHandler(out));
  let tfjsVersion = 'unknown';
  try {
    tfjsVersion = JSON.parse(
      fs.readFileSync(require.resolve('@tensorflow/tfjs/package.json'), 'utf8')
    ).version;
  } catch {
    // the version is informative only
  }
  metadata.libraries = { '@tensorflow/tfjs': tfjsVersion, ...metadata.libraries };
  fs.writeFileSync(path.join(out, 'metadata.json'), JSON.stringify(metadata, null, 2) + '\n');
  process.stderr.write(
    `wrote ${out}: ${result.epochs} epochs (best ${result.bestEpoch}) in ${Math.round(result.seconds)}s; ` +
      `validation rmse@60m ${result.validation.rmse.at(-1)!.toFixed(4)} vs persistence ${result.validation.persistenceRmse.at(-1)!.toFixed(4)}\n`
  );
}

main().catch((e) => fail(NAME, (e as Error).stack ?? String(e)));
