/**
 * `npm run -s evaluate -- --data FILE [--step 600] [--json] [--models a,b] [--report out.html]`: the docs/definitions.md
 * forecast backtest of the baselines (and the LSTM) on one data file. Machine output on stdout with --json,
 * progress on stderr.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { baselineModels } from '../forecast/baselines';
import { fromBatchForecaster, type ForecastModel } from '../forecast/model';
import type { BatchForecaster } from '../forecast/types';
import { backtest, type BacktestResult } from '../evaluate/backtest';
import { backtestReport } from '../evaluate/report';
import { loadSeriesFile } from '../data/loaders';
import type { LabelledSeries } from '../data/canonical';
import { parseDuration } from '../series/time';
import { fail as cliFail, parseCli } from './args';

const NAME = 'evaluate';
const USAGE = `usage: npm run -s evaluate -- --data FILE [--step 600] [--json] [--models LIST] [--report out.html]
  --data FILE       canonical CSV, NAB CSV, Google 2019 instance_usage export, Prometheus query_range JSON,
                    or a directory of such CSVs
  --step S          resampling step, seconds or 10m form (default 600)
  --models LIST     comma-separated: persistence,seasonal_naive,holt_winters,ar,lstm (default: all)
  --model-dir DIR   trained LSTM to load (default models/forecaster)
  --fit             train the LSTM first (as npm run train, on this file's first 80 % only), then score
  --report FILE     also write an HTML report
  --json            JSON on stdout
`;

const BASELINES = ['persistence', 'seasonal_naive', 'holt_winters', 'ar'];
const REPORT_SAMPLE_SERIES = 3;

function fail(message: string): never {
  return cliFail(NAME, message);
}

// ---- LSTM hook --------------------------------------------------------------------------------------------
// backend/src/forecast/lstm.ts gives `loadForecaster(dir)`; `--fit` trains first with the recipe of
// `npm run train` (forecast/fit.ts) on this file alone. That recipe reads only the first 80 % of each
// resampled series (the same cut the backtest scores after), so no test value is seen in training.
const LSTM_MODULE = path.join(__dirname, '..', 'forecast', 'lstm');

function lstmAvailable(): boolean {
  try {
    require.resolve(LSTM_MODULE);
    return true;
  } catch {
    return false;
  }
}

async function lstmModel(
  dir: string,
  step: number,
  fit: { dataset: string; series: LabelledSeries[] } | undefined
): Promise<ForecastModel> {
  let forecaster: BatchForecaster;
  if (fit) {
    const { FIT_DEFAULTS, fitForecaster } = await import('../forecast/fit');
    const datasets = [
      { name: fit.dataset, series: fit.series.map((s) => ({ name: s.name, points: s.points })) },
    ];
    const t0 = Date.now();
    const fitted = await fitForecaster(datasets, {
      ...FIT_DEFAULTS,
      step,
      id: 'prescaler-lstm-fit',
      onInfo: (m) => process.stderr.write(`evaluate: --fit: ${m}\n`),
      onEpoch: (e) =>
        process.stderr.write(
          `evaluate: --fit: epoch ${e.epoch}/${e.epochs} loss ${e.loss.toExponential(3)} val ${e.valLoss.toExponential(3)}\n`
        ),
    });
    process.stderr.write(
      `evaluate: --fit: trained ${fitted.result.epochs} epochs (best ${fitted.result.bestEpoch}) in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`
    );
    forecaster = fitted.forecaster;
  } else {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(LSTM_MODULE) as { loadForecaster(dir: string): Promise<BatchForecaster> };
    forecaster = await mod.loadForecaster(dir);
  }
  return fromBatchForecaster(forecaster, { step });
}
// ---- end of LSTM hook -------------------------------------------------------------------------------------

function table(dataset: string, r: BacktestResult): string {
  const head = ['model', 'horizon', 'rmse', 'rmse_pooled', 'mae', 'accuracy', 'n', 'coverage'];
  const rows = r.results.map((x) => [
    x.model,
    `${(x.horizon * r.step) / 60} min`,
    x.rmse.toFixed(4),
    x.rmse_pooled.toFixed(4),
    x.mae.toFixed(4),
    x.accuracy.toFixed(4),
    String(x.n),
    x.coverage === undefined ? '–' : x.coverage.toFixed(3),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [
    `${dataset}: step ${r.step} s, ${r.series} series scored, ${r.skipped.constant.length} skipped (constant training part), ` +
      `${r.skipped.tooShort.length} skipped (too short)`,
    line(head),
    ...rows.map(line),
  ].join('\n');
}

async function main(): Promise<void> {
  const args = parseCli(NAME, USAGE, {
    data: { type: 'string' },
    step: { type: 'string' },
    json: { type: 'boolean' },
    models: { type: 'string' },
    'model-dir': { type: 'string' },
    fit: { type: 'boolean' },
    report: { type: 'string' },
  });
  const data = args.data;
  if (!data) fail(`--data is required\n${USAGE}`);
  const step = parseDuration(args.step ?? '600');
  if (step === undefined || !(step > 0) || step > 86400)
    fail(`--step must be a duration between 1 s and 1 d, got "${args.step}"`);

  let names: string[];
  const explicit = args.models !== undefined;
  if (args.models) {
    names = args.models
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean);
    const unknown = names.filter((m) => !BASELINES.includes(m) && m !== 'lstm');
    if (unknown.length)
      fail(`unknown model(s) ${unknown.join(', ')}; known: ${[...BASELINES, 'lstm'].join(', ')}`);
    if (new Set(names).size !== names.length) fail('a model is listed twice');
    if (names.includes('lstm') && !lstmAvailable())
      fail('model lstm is not available (backend/src/forecast/lstm.ts missing)');
  } else {
    names = [...(lstmAvailable() ? ['lstm'] : []), ...BASELINES];
    if (!names.includes('lstm'))
      process.stderr.write('evaluate: lstm not available yet, scoring the baselines only\n');
  }

  const t0 = Date.now();
  let series: LabelledSeries[];
  try {
    series = loadSeriesFile(data);
  } catch (e) {
    fail((e as Error).message);
  }
  const dataset = path.basename(data).replace(/\.(csv|json)$/i, '');
  process.stderr.write(
    `evaluate: ${dataset}: ${series.length} series loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`
  );

  const factories = baselineModels(step);
  const models: ForecastModel[] = [];
  for (const name of names) {
    if (name !== 'lstm') {
      models.push(factories[name]());
      continue;
    }
    try {
      models.push(
        await lstmModel(
          args['model-dir'] ?? 'models/forecaster',
          step,
          args.fit ? { dataset, series } : undefined
        )
      );
    } catch (e) {
      // A table without the model it exists to judge must not pass for a complete one: say so and stop.
      fail(
        `the LSTM cannot be scored: ${(e as Error).message}` +
          (explicit
            ? ''
            : '\n(to score only the baselines, say so: --models persistence,seasonal_naive,holt_winters,ar)')
      );
    }
  }

  // A few series spread over the file, plotted in the report.
  const traceSeries = args.report
    ? Array.from(
        new Set(
          Array.from({ length: Math.min(REPORT_SAMPLE_SERIES, series.length) }, (_, i) =>
            Math.floor((i * series.length) / Math.min(REPORT_SAMPLE_SERIES, series.length))
          )
        )
      )
    : [];
  const result = await backtest(
    series.map((s) => ({ name: s.name, points: s.points })),
    models,
    { step, traceSeries, onProgress: (m) => process.stderr.write(`evaluate: ${m}\n`) }
  );
  process.stderr.write(`evaluate: ${dataset}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

  if (args.report) {
    fs.writeFileSync(args.report, backtestReport(dataset, result));
    process.stderr.write(`evaluate: report written to ${args.report}\n`);
  }
  if (args.json) {
    const results = result.results.map((r) => ({
      model: r.model,
      horizon: r.horizon * step,
      rmse: r.rmse,
      rmse_pooled: r.rmse_pooled,
      mae: r.mae,
      accuracy: r.accuracy,
      n: r.n,
      ...(r.coverage === undefined ? {} : { coverage: r.coverage }),
    }));
    process.stdout.write(JSON.stringify({ dataset, step, results }) + '\n');
  } else {
    process.stdout.write(table(dataset, result) + '\n');
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`evaluate: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
