/**
 * Reads a data file into LabelledSeries, whatever of the docs/api.md forms it is in: canonical CSV, a raw
 * Google 2019 `instance_usage` export, a NAB CSV (labels from a NAB windows JSON) or a Prometheus
 * /api/v1/query_range answer. The format is told from the content, not the file name.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Point } from '../series/types';
import { DataFormatError, parseCanonicalCsv, type LabelledSeries } from './canonical';

export type SeriesFormat = 'canonical' | 'google2019-instance-usage' | 'nab' | 'prometheus';

/** 2019-05-01T07:00:00Z, the Google 2019 trace start; `time` counts µs from 600 s before it. */
const GOOGLE2019_TRACE_START = 1556694000;
const GOOGLE2019_TIME_OFFSET = 600;

function headerCells(text: string): string[] {
  const end = text.indexOf('\n');
  return (end < 0 ? text : text.slice(0, end))
    .replace(/\r$/, '')
    .split(',')
    .map((c) => c.trim());
}

function stripBom(text: string): string {
  return text.replace(/^\uFEFF/, '');
}

export function detectFormat(text: string, source = 'input'): SeriesFormat {
  const body = stripBom(text).trimStart();
  if (body === '') throw new DataFormatError(`${source}: empty file`);
  if (body.startsWith('{')) return 'prometheus';
  const header = headerCells(body);
  if (header[0] === 'series') return 'canonical';
  if (header.length === 2 && header[0] === 'timestamp' && header[1] === 'value') return 'nab';
  if (header.includes('time') && header.includes('unique_id') && header.includes('avg_cpu_usage')) {
    return 'google2019-instance-usage';
  }
  throw new DataFormatError(
    `${source}: unknown format (header "${header.join(',')}"); expected a canonical CSV ` +
      '(series,timestamp,value[,label]), a NAB CSV (timestamp,value), a Google 2019 instance_usage export ' +
      '(time,unique_id,…,avg_cpu_usage,…) or a Prometheus query_range JSON answer'
  );
}

/** A number cell: empty or NaN means missing (kept as NaN, dropped at resampling), anything else must parse. */
function parseValue(raw: string, where: string): number {
  const s = raw.trim();
  if (s === '' || /^nan$/i.test(s)) return NaN;
  const v = Number(s);
  if (Number.isNaN(v)) throw new DataFormatError(`${where}: value "${s}" is not a number`);
  return v;
}

function dataLines(text: string, source: string): string[] {
  const lines = stripBom(text).split(/\r?\n/);
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 0) throw new DataFormatError(`${source}: empty file`);
  if (lines.length === 1) throw new DataFormatError(`${source}: no data rows`);
  return lines;
}

/** Sorts by time and drops repeated timestamps (the first in file order is kept, as in the canonical CSVs). */
function sortedUnique(rows: Point[]): Point[] {
  const order = rows.map((_, i) => i).sort((a, b) => rows[a][0] - rows[b][0] || a - b);
  const out: Point[] = [];
  for (const i of order) if (!out.length || out[out.length - 1][0] !== rows[i][0]) out.push(rows[i]);
  return out;
}

export function parseGoogleInstanceUsage(text: string, source = 'input'): LabelledSeries[] {
  const lines = dataLines(text, source);
  const header = headerCells(lines[0]);
  const iTime = header.indexOf('time');
  const iId = header.indexOf('unique_id');
  const iCpu = header.indexOf('avg_cpu_usage');
  if (iTime < 0 || iId < 0 || iCpu < 0) {
    throw new DataFormatError(
      `${source}: a Google 2019 instance_usage export needs columns time, unique_id, avg_cpu_usage`
    );
  }
  const bySeries = new Map<string, Point[]>();
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const where = `${source}:${i + 1}`;
    const cells = lines[i].split(',');
    if (cells.length !== header.length) {
      throw new DataFormatError(`${where}: expected ${header.length} columns, got ${cells.length}`);
    }
    const us = Number(cells[iTime].trim());
    if (!Number.isFinite(us) || us < 0 || cells[iTime].trim() === '') {
      throw new DataFormatError(`${where}: bad time "${cells[iTime]}" (µs since trace start expected)`);
    }
    const id = cells[iId].trim();
    if (!id) throw new DataFormatError(`${where}: empty unique_id`);
    const t = GOOGLE2019_TRACE_START - GOOGLE2019_TIME_OFFSET + Math.floor(us / 1e6);
    const v = parseValue(cells[iCpu], where);
    let rows = bySeries.get(id);
    if (!rows) bySeries.set(id, (rows = []));
    rows.push([t, v]);
  }
  return [...bySeries].map(([name, rows]) => ({ name, points: sortedUnique(rows) }));
}

/** NAB's naive `YYYY-MM-DD HH:MM:SS[.ffffff]`, read as UTC (NAB states no zone). */
export function parseNabTime(s: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?$/.exec(s.trim());
  if (!m) return undefined;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  return Number.isFinite(ms) ? ms / 1000 + (m[7] ? Number(m[7]) : 0) : undefined;
}

/**
 * The anomaly windows NAB's `combined_windows.json` gives a file, as [start, end] Unix seconds. Keys there
 * are `<category>/<file>.csv`; the file is matched by its base name.
 */
export function nabWindowsFor(
  windowsJson: unknown,
  fileName: string,
  source = 'windows'
): Array<[number, number]> {
  if (typeof windowsJson !== 'object' || windowsJson === null || Array.isArray(windowsJson)) {
    throw new DataFormatError(
      `${source}: a NAB windows JSON maps "<category>/<file>.csv" to [start, end] pairs`
    );
  }
  const base = path.basename(fileName);
  const key = Object.keys(windowsJson).find((k) => path.posix.basename(k) === base);
  if (key === undefined) throw new DataFormatError(`${source}: no windows for ${base}`);
  const list = (windowsJson as Record<string, unknown>)[key];
  if (!Array.isArray(list)) throw new DataFormatError(`${source}: windows of ${key} are not a list`);
  return list.map((w, i) => {
    const start = Array.isArray(w) && typeof w[0] === 'string' ? parseNabTime(w[0]) : undefined;
    const end = Array.isArray(w) && typeof w[1] === 'string' ? parseNabTime(w[1]) : undefined;
    if (start === undefined || end === undefined || w.length !== 2) {
      throw new DataFormatError(`${source}: window ${i} of ${key} is not a pair of NAB times`);
    }
    return [start, end];
  });
}

export function parseNabCsv(
  text: string,
  opts: { source?: string; name?: string; windows?: Array<[number, number]> } = {}
): LabelledSeries[] {
  const source = opts.source ?? 'input';
  const lines = dataLines(text, source);
  const header = headerCells(lines[0]);
  if (header.length !== 2 || header[0] !== 'timestamp' || header[1] !== 'value') {
    throw new DataFormatError(`${source}: a NAB CSV has the header "timestamp,value", got "${lines[0]}"`);
  }
  const rows: Point[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const where = `${source}:${i + 1}`;
    const cells = lines[i].split(',');
    if (cells.length !== 2) throw new DataFormatError(`${where}: expected 2 columns, got ${cells.length}`);
    const t = parseNabTime(cells[0]);
    if (t === undefined) throw new DataFormatError(`${where}: bad timestamp "${cells[0]}"`);
    rows.push([t, parseValue(cells[1], where)]);
  }
  const points = sortedUnique(rows);
  const name = opts.name ?? 'value';
  if (!opts.windows) return [{ name, points }];
  const windows = opts.windows;
  const labels = points.map(([t]) => (windows.some(([a, b]) => t >= a && t <= b) ? 1 : 0));
  return [{ name, points, labels }];
}

/** Prometheus sample values are strings; NaN and ±Inf are spelled the Go way. */
function promValue(raw: unknown, where: string): number {
  if (raw === 'NaN') return NaN;
  if (raw === '+Inf' || raw === 'Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(v))
    throw new DataFormatError(`${where}: value ${JSON.stringify(raw)} is not a number`);
  return v;
}

/** `name{a="x",b="y"}` with labels sorted, as Prometheus prints a series. */
export function seriesName(metric: Record<string, string>): string {
  const { __name__: name = '', ...rest } = metric;
  const labels = Object.keys(rest)
    .sort()
    .map((k) => `${k}=${JSON.stringify(rest[k])}`);
  return `${name}{${labels.join(',')}}`;
}

export function parsePrometheusRange(text: string, source = 'input'): LabelledSeries[] {
  let body: unknown;
  try {
    body = JSON.parse(stripBom(text));
  } catch (e) {
    throw new DataFormatError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  const b = body as { status?: unknown; error?: unknown; errorType?: unknown; data?: unknown };
  if (b.status === 'error') {
    throw new DataFormatError(
      `${source}: the Prometheus answer is an error: ${String(b.errorType)}: ${String(b.error)}`
    );
  }
  const data = b.data as { resultType?: unknown; result?: unknown } | undefined;
  if (b.status !== 'success' || typeof data !== 'object' || data === null || !Array.isArray(data.result)) {
    throw new DataFormatError(
      `${source}: unknown JSON format; expected a Prometheus query_range answer {"status":"success","data":{"resultType":"matrix","result":[…]}}`
    );
  }
  if (data.resultType !== 'matrix') {
    throw new DataFormatError(
      `${source}: resultType is ${String(data.resultType)}, a range query answers "matrix"`
    );
  }
  const seen = new Set<string>();
  return data.result.map((r: unknown, i: number) => {
    const where = `${source}: result[${i}]`;
    const { metric, values } = (r ?? {}) as { metric?: unknown; values?: unknown };
    if (typeof metric !== 'object' || metric === null || !Array.isArray(values)) {
      throw new DataFormatError(`${where}: needs "metric" and "values"`);
    }
    const name = seriesName(metric as Record<string, string>);
    if (seen.has(name)) throw new DataFormatError(`${where}: series ${name} appears twice`);
    seen.add(name);
    const rows: Point[] = values.map((p: unknown, k: number) => {
      if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'number' || !Number.isFinite(p[0])) {
        throw new DataFormatError(`${where}.values[${k}]: expected [unix seconds, "value"]`);
      }
      return [p[0], promValue(p[1], `${where}.values[${k}]`)];
    });
    return { name, points: sortedUnique(rows) };
  });
}

export interface ParseOptions {
  /** Names the input in error messages. */
  source?: string;
  /** Series name for single-series formats (NAB); default "value". */
  name?: string;
  /** NAB anomaly windows for the file, Unix seconds. */
  windows?: Array<[number, number]>;
}

/** Parses any supported format and checks every series has at least two finite values. */
export function parseSeriesText(text: string, opts: ParseOptions = {}): LabelledSeries[] {
  const source = opts.source ?? 'input';
  const format = detectFormat(text, source);
  const series =
    format === 'canonical'
      ? parseCanonicalCsv(text, source)
      : format === 'nab'
        ? parseNabCsv(text, { source, name: opts.name, windows: opts.windows })
        : format === 'google2019-instance-usage'
          ? parseGoogleInstanceUsage(text, source)
          : parsePrometheusRange(text, source);
  if (series.length === 0) throw new DataFormatError(`${source}: no series`);
  for (const s of series) {
    const finite = s.points.reduce((n, [, v]) => n + (Number.isFinite(v) ? 1 : 0), 0);
    if (finite < 2) {
      throw new DataFormatError(
        `${source}: series "${s.name}" has ${finite} finite value(s); at least 2 are needed`
      );
    }
  }
  return series;
}

export interface LoadOptions {
  /** A NAB `combined_windows.json`: labels NAB CSVs by the windows listed for their file name. */
  windowsFile?: string;
}

/** The files loadSeriesFile reads for `file`: itself, or a directory's `.csv` files in name order. */
function filesOf(file: string): string[] {
  if (!fs.statSync(file).isDirectory()) return [file];
  return fs
    .readdirSync(file)
    .filter((f) => f.toLowerCase().endsWith('.csv'))
    .sort()
    .map((f) => path.join(file, f));
}

/**
 * SHA-256 (hex) of what loadSeriesFile reads: a file's bytes, or for a directory each `.csv` file's name
 * and bytes in name order. Recorded in model metadata as the training data's fingerprint.
 */
export function dataDigest(file: string): string {
  const hash = crypto.createHash('sha256');
  if (!fs.statSync(file).isDirectory()) return hash.update(fs.readFileSync(file)).digest('hex');
  for (const f of filesOf(file)) {
    hash.update(`${path.basename(f)}\0`);
    hash.update(crypto.createHash('sha256').update(fs.readFileSync(f)).digest());
  }
  return hash.digest('hex');
}

/**
 * Loads a file, or every `.csv` in a directory (e.g. a raw export split into one file per task); series
 * names must then be unique across the files. A NAB CSV's series is named after its file stem.
 */
export function loadSeriesFile(file: string, opts: LoadOptions = {}): LabelledSeries[] {
  let windowsJson: unknown;
  if (opts.windowsFile) {
    try {
      windowsJson = JSON.parse(fs.readFileSync(opts.windowsFile, 'utf8'));
    } catch (e) {
      throw new DataFormatError(`${opts.windowsFile}: cannot read windows JSON (${(e as Error).message})`);
    }
  }
  const files = filesOf(file);
  if (files.length === 0) throw new DataFormatError(`${file}: no .csv files in the directory`);
  const out: LabelledSeries[] = [];
  const names = new Set<string>();
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8');
    const stem = path.basename(f).replace(/\.[^.]*$/, '');
    const windows =
      windowsJson !== undefined && detectFormat(text, f) === 'nab'
        ? nabWindowsFor(windowsJson, f, opts.windowsFile)
        : undefined;
    for (const s of parseSeriesText(text, { source: f, name: stem, windows })) {
      if (names.has(s.name))
        throw new DataFormatError(`${f}: series "${s.name}" also appears in another file`);
      names.add(s.name);
      out.push(s);
    }
  }
  return out;
}
