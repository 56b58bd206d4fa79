/** The bench's result rows, its progress messages on stderr, and the machine it ran on. */
import * as fs from 'node:fs';
import * as os from 'node:os';

export interface Row {
  name: string;
  value: number;
  unit: string;
}

export const rows: Row[] = [];
export const say = (msg: string) => process.stderr.write(`${msg}\n`);
export const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;
export function add(name: string, value: number, unit: string): void {
  rows.push({ name, value: round(value, value < 10 ? 3 : value < 1000 ? 2 : 0), unit });
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * (p / 100);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function machine(): { cpu: string; cores: number; node: string; memoryGb: number; load: string } {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    // not Linux: os.cpus() it is
  }
  return {
    cpu,
    cores: os.availableParallelism?.() ?? os.cpus().length,
    node: process.version,
    memoryGb: round(os.totalmem() / 1024 ** 3, 1),
    load: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
}
