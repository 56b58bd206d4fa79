/** The evaluation loop rows: a round of 10, 100 and 1000 targets in a backend process of its own. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunningPrometheus } from '../sources/local-prometheus';
import type { LagStats, LoopRound } from '../cli/bench-server';
import { queryFor } from './data';
import { forecastRequest, must } from './http';
import { add, percentile, say } from './results';
import { ServerProcess } from './server-process';

/**
 * One evaluation round of N targets (one bench series each, N = 10, 100, 1000), in a backend process of its
 * own whose loop clock is the data's end. The first round warms up (JIT, forest workers) and is reported as
 * cold; the second is measured while a client asks a 1-series /api/forecast every 50 ms: the round's time,
 * the range queries and HTTP requests it sent, the server's event-loop lag meanwhile (monitorEventLoopDelay,
 * 5 ms resolution) and the forecasts' p99. The load average is recorded with each size (a shared machine).
 */
export async function benchLoop(
  prom: RunningPrometheus,
  tmp: string,
  modelsDir: string,
  total: number,
  start: number,
  end: number
): Promise<void> {
  const sizes = [10, 100, 1000].filter((n) => n <= total);
  for (const n of sizes) {
    const config = path.join(tmp, `loop-${n}.yaml`);
    const targets = Array.from(
      { length: n },
      (_, i) =>
        `  - name: t${i}\n    workload: {kind: Deployment, name: t${i}}\n` +
        `    query: 'bench_cpu_cores{pod="pod-${i}"}'\n    capacityPerReplica: 0.5\n    maxReplicas: 100\n`
    );
    fs.writeFileSync(config, `targets:\n${targets.join('')}`);
    say(`loop: ${n} targets`);
    const s = await ServerProcess.start({
      PORT: '0',
      HOST: '127.0.0.1',
      PROMETHEUS_URL: prom.url,
      PRESCALER_CONFIG: config,
      PRESCALER_DB: path.join(tmp, `loop-${n}.db`),
      PRESCALER_MODELS: modelsDir,
      LOG_LEVEL: 'silent',
      BENCH_LOOP_NOW: String(end),
    });
    try {
      const cold: LoopRound = await s.ask({ type: 'loop' }, 'looped');
      let serving = true;
      const lat: number[] = [];
      const forecast = forecastRequest(s.url, queryFor(1, total), start, end);
      const client = (async () => {
        while (serving) {
          lat.push(await must(forecast(), '/api/forecast during a loop round'));
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      // The same client with no round running, as long as a round takes: the lag the machine's load and
      // serving alone cause, for comparison.
      s.tell({ type: 'lag-start' });
      await new Promise((r) => setTimeout(r, Math.min(15_000, Math.max(2000, cold.seconds * 1000))));
      const idle: LagStats = await s.ask({ type: 'lag-stop' }, 'lag');
      const idleLat = lat.splice(0);
      const load = os.loadavg()[0];
      const warm: LoopRound = await s.ask({ type: 'loop' }, 'looped');
      serving = false;
      await client;
      add(`loop_round_seconds_${n}_targets`, warm.seconds, 's');
      add(`loop_round_seconds_cold_${n}_targets`, cold.seconds, 's');
      add(`loop_targets_ok_${n}_targets`, warm.ok, `of ${warm.targets}`);
      add(`loop_queries_per_round_${n}_targets`, warm.queries, 'range queries');
      add(`loop_upstream_requests_per_round_${n}_targets`, warm.requests, 'HTTP requests');
      add(`loop_event_loop_lag_p99_ms_${n}_targets`, warm.lag.p99Ms, 'ms');
      add(`loop_event_loop_lag_max_ms_${n}_targets`, warm.lag.maxMs, 'ms');
      add(`loop_event_loop_lag_p99_ms_no_round_${n}_targets`, idle.p99Ms, 'ms');
      add(
        `loop_forecast_p99_ms_during_round_${n}_targets`,
        percentile(lat, 99),
        `ms (${lat.length} requests)`
      );
      add(
        `loop_forecast_p99_ms_no_round_${n}_targets`,
        percentile(idleLat, 99),
        `ms (${idleLat.length} requests)`
      );
      add(`loop_load_average_1m_${n}_targets`, load, 'load');
      say(
        `  ${n} targets: round ${warm.seconds.toFixed(2)} s (cold ${cold.seconds.toFixed(2)} s), ${warm.ok}/${warm.targets} ok, ` +
          `${warm.queries} queries (${warm.requests} HTTP), lag p99 ${warm.lag.p99Ms} ms (${idle.p99Ms} ms without a round), load ${load.toFixed(2)}` +
          (Object.keys(warm.errors).length ? `, errors ${JSON.stringify(warm.errors)}` : '')
      );
    } finally {
      await s.stop();
    }
  }
}
