/**
 * `npm run demo-backfill -- --tsdb DIR | --openmetrics FILE`: days of the demo load model's past for the
 * demo stack's Prometheus, written before it starts, so forecasts, anomalies and recommendations show in
 * its first minute instead of after days of scraping. --tsdb runs promtool into a Prometheus data
 * directory (left alone when it already holds data); --openmetrics only writes the file promtool reads
 * (the compose stack runs promtool in Prometheus' own image).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEMO_SCRAPE_LABELS, demoHistory } from '../sources/demo-history';
import {
  createBlocks,
  ensurePrometheusBinaries,
  holdsData,
  writeOpenMetrics,
} from '../sources/local-prometheus';
import { fail, numberOption, parseCli } from './args';

const NAME = 'demo-backfill';
const USAGE = `usage: npm run -s demo-backfill -- (--tsdb DIR | --openmetrics FILE) [options]

  --tsdb DIR          Prometheus data directory (--storage.tsdb.path) to fill with promtool, before
                      Prometheus starts; one that already holds data is left alone
  --openmetrics FILE  only write the OpenMetrics text promtool reads
  --days D            days of history before the end (default 9: the forecaster reads 8)
  --step S            seconds between samples (default 60)
  --end T             Unix seconds of the last sample (default: now)
  --seed N            demo seed (default: DEMO_SEED or 42, as the demo workload exporter)
  --job NAME          job label (default ${DEMO_SCRAPE_LABELS.job})
  --instance NAME     instance label (default ${DEMO_SCRAPE_LABELS.instance})
  --promtool PATH     promtool binary (default: found on PATH)
`;

async function main(): Promise<void> {
  const opts = parseCli(NAME, USAGE, {
    tsdb: { type: 'string' },
    openmetrics: { type: 'string' },
    days: { type: 'string' },
    step: { type: 'string' },
    end: { type: 'string' },
    seed: { type: 'string' },
    job: { type: 'string' },
    instance: { type: 'string' },
    promtool: { type: 'string' },
  });
  if (!opts.tsdb === !opts.openmetrics)
    fail(NAME, `give exactly one of --tsdb and --openmetrics\n\n${USAGE}`);
  const days = numberOption(NAME, 'days', opts.days, 9);
  const step = numberOption(NAME, 'step', opts.step, 60);
  const end = numberOption(NAME, 'end', opts.end, Date.now() / 1000);
  const seedRaw = opts.seed ?? (process.env.DEMO_SEED || undefined);
  const seed = seedRaw === undefined ? undefined : numberOption(NAME, 'seed', seedRaw, 42);
  if (!(days > 0) || !(step > 0)) fail(NAME, '--days and --step must be positive');

  if (opts.tsdb && holdsData(opts.tsdb)) {
    process.stderr.write(`${NAME}: ${opts.tsdb} already holds Prometheus data; left alone\n`);
    return;
  }
  const series = demoHistory({
    end,
    days,
    step,
    seed,
    labels: {
      job: opts.job ?? DEMO_SCRAPE_LABELS.job,
      instance: opts.instance ?? DEMO_SCRAPE_LABELS.instance,
    },
  });

  if (opts.openmetrics) {
    const tmp = `${opts.openmetrics}.part`;
    const r = await writeOpenMetrics(series, tmp);
    fs.renameSync(tmp, opts.openmetrics);
    process.stderr.write(`${NAME}: ${r.samples} samples of ${series.length} series to ${opts.openmetrics}\n`);
    return;
  }

  const promtool = opts.promtool ?? (await ensurePrometheusBinaries()).promtool;
  const dataDir = path.resolve(opts.tsdb!);
  fs.mkdirSync(dataDir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-demo-backfill-'));
  try {
    const input = path.join(tmp, 'demo.om');
    const r = await writeOpenMetrics(series, input);
    await createBlocks(promtool, input, dataDir);
    const days = ((r.end - r.start) / 86400).toFixed(1);
    process.stderr.write(
      `${NAME}: ${r.samples} samples (${series.length} series, ${days} days) into ${dataDir}\n`
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => fail(NAME, (e as Error).message));
