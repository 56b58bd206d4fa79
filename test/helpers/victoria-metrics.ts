/**
 * A real single-node VictoriaMetrics on loopback for the tests (Debian's `victoria-metrics` package): a temp
 * -storageDataPath, a free port, data loaded through its `/api/v1/import/prometheus` (the Prometheus text
 * format with millisecond timestamps), then flushed so queries see it at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, type BackfillSeries } from '../../backend/src/sources/local-prometheus';

const APT_COMMAND = 'sudo apt-get install -y victoria-metrics';

export interface RunningVictoriaMetrics {
  url: string;
  logs(): string;
  /** Imports the series (Prometheus text format) and flushes them to search. */
  load(series: BackfillSeries[]): Promise<void>;
  stop(): Promise<void>;
}

function binary(): string {
  const dirs = [
    '/usr/bin',
    '/usr/local/bin',
    ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean),
  ];
  const found = dirs.map((d) => path.join(d, 'victoria-metrics')).find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `victoria-metrics is needed for this test and was not found; install it with: ${APT_COMMAND} ` +
        '(scripts/ensure-tools.sh does, as root)'
    );
  }
  return found;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** The series as Prometheus exposition text with millisecond timestamps, in pieces of ~1 MB. */
export function toImportText(series: BackfillSeries[]): string[] {
  const chunks: string[] = [];
  let lines: string[] = [];
  let size = 0;
  for (const s of series) {
    const { __name__: name, ...rest } = s.labels;
    const labels = Object.entries(rest)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(',');
    const head = labels ? `${name}{${labels}}` : name;
    for (const [t, v] of s.points) {
      const line = `${head} ${formatValue(v)} ${Math.round(t * 1000)}`;
      lines.push(line);
      size += line.length + 1;
      if (size > 1_000_000) {
        chunks.push(lines.join('\n') + '\n');
        lines = [];
        size = 0;
      }
    }
  }
  if (lines.length) chunks.push(lines.join('\n') + '\n');
  return chunks;
}

export async function startVictoriaMetrics(opts: { readyTimeoutMs?: number; extraArgs?: string[] } = {}) {
  const bin = binary();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'prescaler-vm-'));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child: ChildProcess = spawn(
      bin,
      [
        `-storageDataPath=${path.join(dir, 'data')}`,
        `-httpListenAddr=127.0.0.1:${port}`,
        // Test data may be years old: the default retention (1 month) would drop it on import.
        '-retentionPeriod=100y',
        ...(opts.extraArgs ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] }
    );
    let output = '';
    const collect = (c: Buffer) => {
      output += c.toString();
      if (output.length > 1_000_000) output = output.slice(-500_000);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    let exited = false;
    const gone = new Promise<void>((r) =>
      child.on('exit', () => {
        exited = true;
        r();
      })
    );
    const kill = async () => {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    };
    process.once('exit', () => child.kill('SIGKILL'));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
    let ready = false;
    while (!exited && Date.now() < deadline) {
      try {
        const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
        const text = await res.text();
        if (res.ok && text.trim() === 'OK') {
          ready = true;
          break;
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!ready) {
      await kill();
      if (attempt < 3 && /address already in use/.test(output)) continue;
      await rm(dir, { recursive: true, force: true });
      throw new Error(`victoria-metrics did not get ready at ${url}:\n${output.slice(-3000)}`);
    }
    let stopped = false;
    const vm: RunningVictoriaMetrics = {
      url,
      logs: () => output,
      load: async (series) => {
        for (const body of toImportText(series)) {
          const res = await fetch(`${url}/api/v1/import/prometheus`, { method: 'POST', body });
          if (res.status !== 204 && res.status !== 200)
            throw new Error(`import answered ${res.status}: ${await res.text()}`);
        }
        // Imported rows reach search after a second or so; force_flush makes them searchable now.
        const flushed = await fetch(`${url}/internal/force_flush`);
        if (!flushed.ok) throw new Error(`force_flush answered ${flushed.status}`);
        // The rollup result cache could hold an answer from before the import.
        await fetch(`${url}/internal/resetRollupResultCache`);
      },
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await kill();
        await rm(dir, { recursive: true, force: true });
      },
    };
    return vm;
  }
}
