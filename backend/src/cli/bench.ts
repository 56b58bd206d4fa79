/**
 * `npm run -s bench -- [--json] [--duration 60] [--series 1000]`: serving and model speed, measured against
 * a real Prometheus on loopback that the bench starts and fills (promtool backfill), with the backend in
 * its own process. Machine output `{results: [{name, value, unit}]}` on stdout with --json; progress on stderr.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startPrometheus, type RunningPrometheus } from '../sources/local-prometheus';
import { initTf } from '../forecast/tf';
import { historySeconds } from '../forecast/types';
import { inBatches, splitRange } from '../sources/split';
import { historyToRead, loadAnomalyModel } from '../anomaly/index';
import { benchSeries, DAY, queryFor, STEP } from '../bench/data';
import { forecastRequest, must, newStepRefreshes, rawRequest, sameAnswer, timedPost } from '../bench/http';
import { benchLoop } from '../bench/loop';
import { benchInference, prepareModels } from '../bench/model';
import { add, machine, percentile, rows, say } from '../bench/results';
import { ServerProcess } from '../bench/server-process';
import { fail, numberOption, parseCli } from './args';
import type { LagStats } from './bench-server';

const NAME = 'bench';
const PARTS = ['inference', 'latency', 'anomalies', 'whatif', 'training', 'sustained', 'loop'] as const;
type Part = (typeof PARTS)[number];
const USAGE = `usage: npm run -s bench -- [--json] [options]

  --json              {results: [{name, value, unit}]} on stdout
  --duration S        seconds of the sustained-load row (default 60)
  --clients N         concurrent clients in the sustained-load row (default 50)
  --series N          series in Prometheus and the largest forecast (default 1000)
  --days D            days of data before the range's end, plus 2 h (default 9: the 8 days of history the
                      forecaster reads all exist, as on a live Prometheus; the anomalies rows need 3)
  --sample-every S    seconds between backfilled samples (default 120)
  --train-windows N   training windows for the training rows (default 10000)
  --train-epochs N    epochs of that training run (default 2)
  --models DIR        models directory (default: the shipped models/)
  --only PARTS        comma-separated parts to run: ${PARTS.join(',')} (default: all)
`;

async function main(): Promise<void> {
  const opts = parseCli(NAME, USAGE, {
    json: { type: 'boolean' },
    duration: { type: 'string' },
    clients: { type: 'string' },
    series: { type: 'string' },
    days: { type: 'string' },
    'sample-every': { type: 'string' },
    'train-windows': { type: 'string' },
    'train-epochs': { type: 'string' },
    models: { type: 'string' },
    only: { type: 'string' },
  });
  const only = new Set((opts.only ?? PARTS.join(',')).split(',').map((p) => p.trim()));
  for (const p of only)
    if (!PARTS.includes(p as Part)) fail(NAME, `--only: unknown part ${p}; parts are ${PARTS.join(', ')}`);
  const run = (p: Part) => only.has(p);
  const duration = numberOption(NAME, 'duration', opts.duration, 60);
  const clients = numberOption(NAME, 'clients', opts.clients, 50);
  const total = numberOption(NAME, 'series', opts.series, 1000);
  const days = numberOption(NAME, 'days', opts.days, 9);
  const sampleEvery = numberOption(NAME, 'sample-every', opts['sample-every'], 120);
  const trainWindows = numberOption(NAME, 'train-windows', opts['train-windows'], 10000);
  const trainEpochs = numberOption(NAME, 'train-epochs', opts['train-epochs'], 2);
  const modelsDir = path.resolve(opts.models ?? path.join(__dirname, '..', '..', '..', 'models'));
  if (!(total >= 1) || !(duration > 0) || !(clients >= 1) || !(days >= 1))
    fail(NAME, '--series, --duration and --clients must be positive, --days at least 1');
  // Prometheus looks back 5 minutes for a sample: sparser data would leave steps empty.
  if (!(sampleEvery >= 1 && sampleEvery <= 300)) fail(NAME, '--sample-every must be in [1, 300] seconds');
  const sizes = [1, 100, 1000]
    .filter((n) => n < total)
    .concat(total)
    .filter((n, i, a) => a.indexOf(n) === i);
  const facts = machine();
  say(
    `machine: ${facts.cpu}, ${facts.cores} cores, ${facts.memoryGb} GB, Node ${facts.node}, load ${facts.load}`
  );
  const started = performance.now();

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-bench-'));
  let prom: RunningPrometheus | undefined;
  let server: ServerProcess | undefined;
  try {
    await initTf();
    const models = await prepareModels(modelsDir, tmp);
    say(`model: ${models.note}`);

    if (run('inference')) {
      say(`inference: ${total} series in one batch`);
      await benchInference(models.forecaster, total);
    }
    // The range /api/forecast reads: the one shown plus the history the model's seasonal inputs need.
    const modelHistory = historySeconds(models.forecaster);
    models.forecaster.model.dispose();

    // Data ends a few hours before now so the backfilled block never overlaps Prometheus' head.
    const end = Math.floor(Date.now() / 1000 / 3600) * 3600 - 3 * 3600;
    const start = end - DAY;
    // The data: `days` days before the end plus 2 h (the what-if row replays the 26 h before the end).
    const dataStart = end - days * DAY - 2 * 3600;
    say(
      `prometheus: backfilling ${total} series × ${Math.floor((end - dataStart) / sampleEvery) + 1} samples ` +
        `(${days} d + 2 h at ${sampleEvery} s)`
    );
    const t0 = performance.now();
    prom = await startPrometheus({
      series: benchSeries(total, dataStart, end, sampleEvery),
      readyTimeoutMs: 60_000,
    });
    say(`prometheus ready at ${prom.url} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // One target, for the what-if row: a replay of one bench series' history.
    const config = path.join(tmp, 'bench.yaml');
    // The data ends hours before now (promtool cannot backfill into Prometheus' head). A live dashboard's
    // refresh re-reads the evaluations of the last 10 min (the history cache's default maxFreshness); to
    // read the same share of the bench data, the freshness window reaches 10 min into it.
    const freshness = Math.ceil(Date.now() / 1000 - end) + 600;
    fs.writeFileSync(
      config,
      'targets:\n  - name: bench\n    workload: {kind: Deployment, name: bench}\n' +
        `    query: '${queryFor(1, total)}'\n    capacityPerReplica: 1\n    maxReplicas: 100\n` +
        `historyCache: {maxFreshness: ${freshness}}\n`
    );
    server = await ServerProcess.start({
      PORT: '0',
      HOST: '127.0.0.1',
      PROMETHEUS_URL: prom.url,
      PRESCALER_CONFIG: config,
      PRESCALER_DB: path.join(tmp, 'bench.db'),
      PRESCALER_MODELS: models.dir,
      LOG_LEVEL: 'silent',
    });
    say(`backend at ${server.url}: ${server.ready.forecaster}, inference on ${server.ready.fastPath}`);

    // Latency per size, forecast and raw query interleaved so both see the same machine state.
    for (const n of run('latency') ? sizes : []) {
      const query = queryFor(n, total);
      const forecast = forecastRequest(server.url, query, start, end, true);
      const refresh = forecastRequest(server.url, query, start, end);
      const raw = rawRequest(prom.url, query, start, end);
      const relayed = rawRequest(server.ready.relayUrl, query, start, end);
      const inputStart = Math.min(start, end - Math.ceil(modelHistory / STEP) * STEP);
      const modelInput = rawRequest(prom.url, query, inputStart, end);
      const runs = n >= 1000 ? 20 : n >= 100 ? 40 : 100;
      for (let i = 0; i < 3; i++) {
        await must(forecast(), `/api/forecast (${n} series)`);
        await must(raw(), `query_range (${n} series)`);
      }
      await sameAnswer(server.url, query, start, end);
      const f: number[] = [];
      const fr: number[] = [];
      const r: number[] = [];
      const rr: number[] = [];
      const p: number[] = [];
      const m: number[] = [];
      for (let i = 0; i < runs; i++) {
        f.push(await must(forecast(), `/api/forecast (${n} series)`));
        r.push(await must(raw(), `query_range (${n} series)`));
        p.push(await must(relayed(), `relayed query_range (${n} series)`));
        if (n === total) m.push(await must(modelInput(), `query_range over the model's input (${n} series)`));
      }
      // Refreshes in a loop of their own, as a dashboard sends them: a first read between two refreshes
      // would leave its garbage (8 days of every series) to be collected during the next one.
      for (let i = 0; i < runs; i++) {
        fr.push(await must(refresh(), `/api/forecast refresh (${n} series)`));
        rr.push(await must(raw(), `query_range (${n} series)`));
      }
      const stepped = await newStepRefreshes(server.url, '/api/forecast', prom.url, query, start, end, runs);
      add(`forecast_p50_ms_${n}_series`, percentile(f, 50), 'ms');
      add(`forecast_p99_ms_${n}_series`, percentile(f, 99), 'ms');
      add(`query_range_p50_ms_${n}_series`, percentile(r, 50), 'ms');
      add(`forecast_overhead_ratio_${n}_series`, percentile(f, 50) / percentile(r, 50), '×');
      // A dashboard refresh: the history from the cache, the last step from Prometheus.
      add(`forecast_refresh_p50_ms_${n}_series`, percentile(fr, 50), 'ms');
      add(`forecast_refresh_p99_ms_${n}_series`, percentile(fr, 99), 'ms');
      add(`query_range_refresh_loop_p50_ms_${n}_series`, percentile(rr, 50), 'ms');
      add(`forecast_refresh_overhead_ratio_${n}_series`, percentile(fr, 50) / percentile(rr, 50), '×');
      // A refresh after a new step: the answer is computed again from the history plus the step.
      add(`forecast_new_step_p50_ms_${n}_series`, percentile(stepped.api, 50), 'ms');
      add(`query_range_new_step_loop_p50_ms_${n}_series`, percentile(stepped.raw, 50), 'ms');
      add(
        `forecast_new_step_overhead_ratio_${n}_series`,
        percentile(stepped.api, 50) / percentile(stepped.raw, 50),
        '×'
      );
      // The floor: the same answer relayed unread through a Node process (bench-server.ts).
      add(`relay_p50_ms_${n}_series`, percentile(p, 50), 'ms');
      add(`relay_overhead_ratio_${n}_series`, percentile(p, 50) / percentile(r, 50), '×');
      if (n === total) {
        // What Prometheus takes for the longer range the backend really asks (empty steps cost too).
        add(`query_range_model_input_p50_ms_${n}_series`, percentile(m, 50), 'ms');
        // The issue's definition: ÷ the raw query_range for the same data (all the forecast reads).
        add(`forecast_overhead_ratio_same_data_${n}_series`, percentile(f, 50) / percentile(m, 50), '×');
        // The same range as the backend reads it: day-long pieces, four at a time (sources/split.ts).
        const pieces = splitRange({ query, start: inputStart, end, step: STEP }, DAY);
        const split: number[] = [];
        for (let i = 0; i < Math.ceil(runs / 2); i++) {
          const t0 = performance.now();
          await inBatches(pieces, 4, undefined, (piece) =>
            must(rawRequest(prom!.url, query, piece.start, piece.end)(), `a piece of the model's input`)
          );
          split.push(performance.now() - t0);
        }
        add(`query_range_model_input_split_p50_ms_${n}_series`, percentile(split, 50), 'ms');
        const gz: number[] = [];
        const rawGzip = rawRequest(prom.url, query, start, end, 'gzip');
        for (let i = 0; i < Math.ceil(runs / 2); i++)
          gz.push(await must(rawGzip(), `gzipped query_range (${n} series)`));
        add(`query_range_gzip_p50_ms_${n}_series`, percentile(gz, 50), 'ms');
      }
      say(
        `  ${n} series: forecast p50 ${percentile(f, 50).toFixed(1)} ms (refresh ${percentile(fr, 50).toFixed(1)} ms), query_range p50 ${percentile(r, 50).toFixed(1)} ms, relayed ${percentile(p, 50).toFixed(1)} ms`
      );
    }

    // /api/anomalies over the same range, which a panel asks beside the forecast. The detector reads its
    // features' look-back and its onset damping's before the range (60.5 h at 600 s): --days 4.
    if (run('anomalies')) {
      const warmup = historyToRead(loadAnomalyModel(path.join(models.dir, 'anomaly')), STEP);
      if (start - warmup < dataStart) {
        say(
          `anomalies: skipped; the detector reads ${(warmup / 3600).toFixed(0)} h before the range and the data ` +
            `holds ${((start - dataStart) / 3600).toFixed(0)} h (run with --days 4)`
        );
      }
      for (const n of start - warmup < dataStart ? [] : sizes) {
        const query = queryFor(n, total);
        const body = JSON.stringify({ query, start, end, step: STEP });
        const headers = { 'content-type': 'application/json' };
        const cold = () =>
          timedPost(`${server!.url}/api/anomalies`, body, { ...headers, 'cache-control': 'no-cache' });
        const refresh = () => timedPost(`${server!.url}/api/anomalies`, body, headers);
        const raw = rawRequest(prom.url, query, start, end);
        const runs = n >= 1000 ? 10 : n >= 100 ? 20 : 50;
        for (let i = 0; i < 2; i++) await must(cold(), `/api/anomalies (${n} series)`);
        const a: number[] = [];
        const ar: number[] = [];
        const r: number[] = [];
        const rr: number[] = [];
        for (let i = 0; i < runs; i++) {
          a.push(await must(cold(), `/api/anomalies (${n} series)`));
          r.push(await must(raw(), `query_range (${n} series)`));
        }
        // Refreshes in a loop of their own, as for the forecast.
        for (let i = 0; i < runs; i++) {
          ar.push(await must(refresh(), `/api/anomalies refresh (${n} series)`));
          rr.push(await must(raw(), `query_range (${n} series)`));
        }
        const stepped = await newStepRefreshes(
          server!.url,
          '/api/anomalies',
          prom.url,
          query,
          start,
          end,
          runs
        );
        add(`anomalies_p50_ms_${n}_series`, percentile(a, 50), 'ms');
        add(`anomalies_new_step_p50_ms_${n}_series`, percentile(stepped.api, 50), 'ms');
        add(`anomalies_p99_ms_${n}_series`, percentile(a, 99), 'ms');
        add(`anomalies_refresh_p50_ms_${n}_series`, percentile(ar, 50), 'ms');
        add(`anomalies_overhead_ratio_${n}_series`, percentile(a, 50) / percentile(r, 50), '×');
        add(`anomalies_refresh_overhead_ratio_${n}_series`, percentile(ar, 50) / percentile(rr, 50), '×');
        add(
          `anomalies_new_step_overhead_ratio_${n}_series`,
          percentile(stepped.api, 50) / percentile(stepped.raw, 50),
          '×'
        );
        say(
          `  ${n} series: anomalies p50 ${percentile(a, 50).toFixed(1)} ms (refresh ${percentile(ar, 50).toFixed(1)} ms), query_range p50 ${percentile(r, 50).toFixed(1)} ms`
        );
      }
    }

    if (run('whatif')) {
      // POST /api/whatif over the last 26 h (at 60 s): the first replay starts the worker
      // (TensorFlow.js and the model load in it), the next ones find it warm.
      const body = JSON.stringify({ target: 'bench', start: start - 2 * 3600, end });
      const whatif = () =>
        timedPost(`${server!.url}/api/whatif`, body, { 'content-type': 'application/json' });
      say('what-if: one cold replay, then 10 warm');
      const cold = await must(whatif(), 'what-if (cold)');
      const warm: number[] = [];
      for (let i = 0; i < 10; i++) warm.push(await must(whatif(), 'what-if (warm)'));
      add('whatif_ms_cold_26h', cold, 'ms');
      add('whatif_p50_ms_warm_26h', percentile(warm, 50), 'ms');
      say(`  cold ${cold.toFixed(0)} ms, warm p50 ${percentile(warm, 50).toFixed(0)} ms`);
    }
    if (run('training')) {
      // Training in a worker thread of the serving process, while a client keeps forecasting; first the same
      // load without training, so the lag training adds can be told from the lag serving itself causes.
      const mid = Math.min(100, total);
      // A dashboard's pace: one forecast every PACE_MS (or back to back when one takes longer).
      const PACE_MS = 200;
      const loadFor = async (until: () => boolean, into: number[]) => {
        const forecast = forecastRequest(server!.url, queryFor(mid, total), start, end);
        while (!until()) {
          const t0 = performance.now();
          into.push(await must(forecast(), '/api/forecast under training-row load'));
          const rest = PACE_MS - (performance.now() - t0);
          if (rest > 0) await new Promise((r) => setTimeout(r, rest));
        }
      };
      const alone: number[] = [];
      server.tell({ type: 'lag-start' });
      const aloneUntil = performance.now() + 10_000;
      await loadFor(() => performance.now() > aloneUntil, alone);
      const aloneLag = await server.ask({ type: 'lag-stop' }, 'lag');
      add('event_loop_lag_p99_ms_same_load_no_training', aloneLag.p99Ms, 'ms');
      add(`forecast_p99_ms_${mid}_series_same_load_no_training`, percentile(alone, 99), 'ms');
      say(
        `training: ${trainWindows} windows × ${trainEpochs} epochs in a worker, serving a ${mid}-series forecast every ${PACE_MS} ms meanwhile`
      );
      const during: number[] = [];
      let training = true;
      const load = loadFor(() => !training, during);
      const trained = await server.ask(
        { type: 'train', windows: trainWindows, epochs: trainEpochs },
        'trained'
      );
      training = false;
      await load;
      add(
        `train_seconds_${Math.round(trainWindows / 1000)}k_windows`,
        trained.seconds,
        `s (${trained.epochs} epochs, ${trained.units} units)`
      );
      add('event_loop_lag_p99_ms_during_training', trained.lag.p99Ms, 'ms');
      add('event_loop_lag_max_ms_during_training', trained.lag.maxMs, 'ms');
      add(`forecast_p99_ms_${mid}_series_during_training`, percentile(during, 99), 'ms');
      say(
        `  ${trained.seconds.toFixed(1)} s; event-loop lag p99 ${trained.lag.p99Ms} ms; ${during.length} forecasts served meanwhile`
      );
    }
    if (run('sustained')) {
      // Sustained load: each client alternates the 1-series and the 100-series query.
      say(`sustained: ${clients} clients for ${duration} s`);
      const before = await server.stats();
      server.tell({ type: 'lag-start' });
      const deadline = performance.now() + duration * 1000;
      const lat: number[] = [];
      let errors = 0;
      const statuses = new Map<number, number>();
      // The heap after GC once a minute: the first minute carries warm-up (JIT, label sets), so growth
      // after it is what a leak would show.
      const minutes: number[] = [];
      const sampler = setInterval(() => {
        void server!.stats().then((s) => minutes.push(s.heapUsedMb));
      }, 60_000);
      const requests = [forecastRequest(server.url, queryFor(1, total), start, end)];
      if (total > 1)
        requests.push(forecastRequest(server.url, queryFor(Math.min(100, total), total), start, end));
      await Promise.all(
        Array.from({ length: clients }, async (_, c) => {
          for (let i = c; performance.now() < deadline; i++) {
            const t = await requests[i % requests.length]();
            lat.push(t.ms);
            if (!t.ok) {
              errors++;
              statuses.set(t.status, (statuses.get(t.status) ?? 0) + 1);
            }
          }
        })
      );
      clearInterval(sampler);
      const lag: LagStats = await server.ask({ type: 'lag-stop' }, 'lag');
      const after = await server.stats();
      add('sustained_clients', clients, 'clients');
      add('sustained_seconds', duration, 's');
      add('sustained_requests', lat.length, 'requests');
      add('sustained_requests_per_second', lat.length / duration, 'req/s');
      add('sustained_errors', errors, 'requests');
      add('sustained_p50_ms', percentile(lat, 50), 'ms');
      add('sustained_p99_ms', percentile(lat, 99), 'ms');
      add('sustained_event_loop_lag_p99_ms', lag.p99Ms, 'ms');
      add('sustained_heap_mb_start', before.heapUsedMb, 'MB');
      add('sustained_heap_mb_end', after.heapUsedMb, 'MB');
      if (minutes.length > 1) {
        add('sustained_heap_mb_after_1_min', minutes[0], 'MB');
        add('sustained_heap_mb_growth_after_1_min', after.heapUsedMb - minutes[0], 'MB');
      }
      add('sustained_tensors_start', before.tensors, 'tensors');
      add('sustained_tensors_end', after.tensors, 'tensors');
      if (errors)
        say(`  errors by status: ${[...statuses].map(([s, n]) => `${s || 'network'}: ${n}`).join(', ')}`);
      add('peak_rss_mb', after.maxRssMb, 'MB');
    }
    if (run('loop')) await benchLoop(prom, tmp, models.dir, total, start, end);
  } finally {
    await server?.stop();
    await prom?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const seconds = (performance.now() - started) / 1000;
  say(`done in ${seconds.toFixed(0)} s; load now ${machine().load}`);
  if (opts.json) {
    process.stdout.write(JSON.stringify({ results: rows }) + '\n');
    return;
  }
  const f = machine();
  const out = [
    `machine: ${f.cpu}, ${f.cores} cores, ${f.memoryGb} GB RAM, Node ${f.node}`,
    `load average at start: ${facts.load}; at end: ${f.load}`,
    `command: npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''} (${seconds.toFixed(0)} s)`,
    '',
  ];
  const w = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) out.push(`${r.name.padEnd(w)}  ${String(r.value).padStart(10)}  ${r.unit}`);
  process.stdout.write(out.join('\n') + '\n');
}

main().then(
  () => process.exit(0),
  (e) => fail(NAME, (e as Error).stack ?? String(e))
);
