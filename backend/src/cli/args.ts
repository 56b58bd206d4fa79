/** Small shared pieces of the CLIs: argument parsing with clear errors, progress on stderr. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export function parseCli<T extends NonNullable<ParseArgsConfig['options']>>(
  name: string,
  usage: string,
  options: T,
  argv = process.argv.slice(2)
) {
  try {
    const parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean' } },
      allowPositionals: false,
    });
    if ((parsed.values as Record<string, unknown>).help) {
      process.stdout.write(usage);
      process.exit(0);
    }
    return parsed.values as {
      [K in keyof T]?: T[K] extends { type: 'boolean' }
        ? boolean
        : T[K] extends { multiple: true }
          ? string[]
          : string;
    };
  } catch (e) {
    fail(name, `${(e as Error).message}\n\n${usage}`);
  }
}

export function fail(name: string, message: string): never {
  process.stderr.write(`${name}: ${message}\n`);
  process.exit(2);
}

export function numberOption(name: string, key: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v)) fail(name, `--${key} must be a number, got "${raw}"`);
  return v;
}

/** A one-line progress bar on stderr (only when stderr is a terminal; else one line per update). */
export function progress(label: string, done: number, total: number, extra = ''): void {
  const width = 24;
  const filled = Math.round((done / Math.max(total, 1)) * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  const line = `${label} ${bar} ${done}/${total} ${extra}`;
  if (process.stderr.isTTY) process.stderr.write(`\r${line}\x1b[K${done >= total ? '\n' : ''}`);
  else process.stderr.write(`${line}\n`);
}
