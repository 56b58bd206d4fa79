/**
 * Reads the NAB corpus as NAB lays it out — `data/<category>/<file>.csv`, `labels/combined_windows.json`
 * keyed `"<category>/<file>.csv"`, detector results in `<detector>/<category>/<detector>_<file>.csv` —
 * into the files scoreCorpus (evaluate/nab.ts) takes. Rows stay in file order, repeated timestamps and
 * all: NAB scores a file's rows by position, and some of its files repeat or step back in time. The file
 * system edge of the NAB evaluation; the scoring itself is in nab.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export class NabCorpusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NabCorpusError';
  }
}

/** One data file of the corpus: `name` is its windows key, `<category>/<file>.csv`. */
export interface NabSeries {
  name: string;
  category: string;
  /** Unix seconds, one per row in file order. */
  timestamps: Float64Array;
  values: Float64Array;
  /** Inclusive [start, end] anomaly windows, Unix seconds, each starting and ending on a row. */
  windows: Array<[number, number]>;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(at + k) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
}

/**
 * NAB's naive `YYYY-MM-DD HH:MM:SS[.ffffff]` (or with `T`) in s[from, to), read as UTC, in Unix seconds;
 * NaN when it is not one. Hand-parsed: the corpus has 2 million of them to read.
 */
export function parseNabTimestamp(s: string, from = 0, to = s.length): number {
  while (from < to && s.charCodeAt(from) === 32) from++;
  while (to > from && (s.charCodeAt(to - 1) === 32 || s.charCodeAt(to - 1) === 13)) to--;
  const len = to - from;
  if (len < 19) return NaN;
  const sep = s.charCodeAt(from + 10);
  if (
    s.charCodeAt(from + 4) !== 45 ||
    s.charCodeAt(from + 7) !== 45 ||
    (sep !== 32 && sep !== 84) ||
    s.charCodeAt(from + 13) !== 58 ||
    s.charCodeAt(from + 16) !== 58
  )
    return NaN;
  const y = digits(s, from, 4);
  const mo = digits(s, from + 5, 2);
  const d = digits(s, from + 8, 2);
  const h = digits(s, from + 11, 2);
  const mi = digits(s, from + 14, 2);
  const se = digits(s, from + 17, 2);
  if (!(mo >= 1 && mo <= 12 && d >= 1 && h <= 23 && mi <= 59 && se <= 59)) return NaN;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > (mo === 2 && !leap ? 28 : DAYS_IN_MONTH[mo - 1])) return NaN;
  let frac = 0;
  if (len > 19) {
    if (s.charCodeAt(from + 19) !== 46 || len === 20) return NaN;
    const f = digits(s, from + 20, len - 20);
    if (Number.isNaN(f)) return NaN;
    frac = f / 10 ** (len - 20);
  }
  return daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se + frac;
}

function isoTime(t: number): string {
  return Number.isFinite(t) ? new Date(t * 1000).toISOString().replace('.000Z', 'Z') : String(t);
}

/**
 * The rows of a CSV as [timestamp, number] columns picked by header name, in file order. Errors name the
 * file and line.
 */
function readColumns(
  file: string,
  timeColumn: string,
  valueColumn: string,
  what: string
): { header: string[]; timestamps: Float64Array; values: Float64Array } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new NabCorpusError(`${file}: cannot read (${(e as Error).message})`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let eol = text.indexOf('\n');
  if (eol < 0) eol = text.length;
  const header = text
    .slice(0, eol)
    .replace(/\r$/, '')
    .split(',')
    .map((h) => h.trim());
  const ti = header.indexOf(timeColumn);
  const vi = header.indexOf(valueColumn);
  if (ti < 0 || vi < 0)
    throw new NabCorpusError(
      `${file}: ${what} has the columns "${timeColumn}" and "${valueColumn}", the header is "${header.join(',')}"`
    );
  const cols = header.length;
  const cap = ((text.length / 20) | 0) + 16;
  let timestamps = new Float64Array(cap);
  let values = new Float64Array(cap);
  const cellStart = new Int32Array(cols + 1);
  let n = 0;
  let line = 1;
  for (let at = eol + 1; at < text.length;) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    line++;
    const lineEnd = end > at && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    // Cells [cellStart[k], cellStart[k + 1] − 1), found without cutting the line up.
    let k = 0;
    cellStart[0] = at;
    for (let c = text.indexOf(',', at); c >= 0 && c < lineEnd; c = text.indexOf(',', c + 1)) {
      if (++k < cols) cellStart[k] = c + 1;
    }
    if (k === 0 && cols > 1 && text.slice(at, lineEnd).trim() === '') {
      at = end + 1;
      continue;
    }
    if (k + 1 !== cols) throw new NabCorpusError(`${file}:${line}: ${k + 1} columns, the header has ${cols}`);
    cellStart[cols] = lineEnd + 1;
    const t = parseNabTimestamp(text, cellStart[ti], cellStart[ti + 1] - 1);
    if (Number.isNaN(t))
      throw new NabCorpusError(
        `${file}:${line}: bad timestamp "${text.slice(cellStart[ti], cellStart[ti + 1] - 1)}" (NAB's YYYY-MM-DD HH:MM:SS)`
      );
    const raw = text.slice(cellStart[vi], cellStart[vi + 1] - 1);
    const v = raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(v))
      throw new NabCorpusError(`${file}:${line}: ${valueColumn} "${raw.trim()}" is not a finite number`);
    if (n === timestamps.length) {
      const grow = (a: Float64Array) => {
        const g = new Float64Array(a.length * 2);
        g.set(a);
        return g;
      };
      timestamps = grow(timestamps);
      values = grow(values);
    }
    timestamps[n] = t;
    values[n++] = v;
    at = end + 1;
  }
  if (n === 0) throw new NabCorpusError(`${file}: no data rows`);
  return { header, timestamps: timestamps.slice(0, n), values: values.slice(0, n) };
}

/** NAB's combined_windows.json: `"<category>/<file>.csv"` → [[start, end], …] in NAB times. */
export function readNabWindows(windowsFile: string): Map<string, Array<[number, number]>> {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(windowsFile, 'utf8'));
  } catch (e) {
    throw new NabCorpusError(`${windowsFile}: cannot read the windows JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new NabCorpusError(
      `${windowsFile}: NAB's windows JSON maps "<category>/<file>.csv" to [start, end] pairs`
    );
  const out = new Map<string, Array<[number, number]>>();
  for (const [key, list] of Object.entries(json)) {
    if (!Array.isArray(list))
      throw new NabCorpusError(`${windowsFile}: the windows of ${key} are not a list`);
    out.set(
      key,
      list.map((w: unknown, i) => {
        const pair = Array.isArray(w) && w.length === 2 && w.every((x) => typeof x === 'string');
        const start = pair ? parseNabTimestamp((w as string[])[0]) : NaN;
        const end = pair ? parseNabTimestamp((w as string[])[1]) : NaN;
        if (Number.isNaN(start) || Number.isNaN(end))
          throw new NabCorpusError(`${windowsFile}: window ${i} of ${key} is not a pair of NAB times`);
        return [start, end];
      })
    );
  }
  return out;
}

const isCsv = (f: string) => f.toLowerCase().endsWith('.csv');
const visible = (e: fs.Dirent) => !e.name.startsWith('.');

/**
 * The data files under `dataDir` with their categories: NAB's `<category>/<file>.csv`, or a flat
 * directory of CSVs (one category, named after the directory).
 */
export function nabCorpusLayout(dataDir: string): Array<{ file: string; category: string; name: string }> {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dataDir, { withFileTypes: true }).filter(visible);
  } catch (e) {
    throw new NabCorpusError(`${dataDir}: cannot read the data directory (${(e as Error).message})`);
  }
  const dirs = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  const csvs = entries.filter((e) => e.isFile() && isCsv(e.name)).map((e) => e.name);
  if (dirs.length && csvs.length)
    throw new NabCorpusError(
      `${dataDir}: holds both .csv files (${csvs[0]}) and category directories (${dirs[0]}); NAB's layout is <category>/<file>.csv`
    );
  if (!dirs.length) {
    if (!csvs.length) throw new NabCorpusError(`${dataDir}: no .csv files and no category directories`);
    const category = path.basename(path.resolve(dataDir));
    return csvs.sort().map((f) => ({ file: path.join(dataDir, f), category, name: `${category}/${f}` }));
  }
  return dirs.sort().flatMap((category) => {
    const dir = path.join(dataDir, category);
    const files = fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => visible(e) && e.isFile() && isCsv(e.name))
      .map((e) => e.name)
      .sort();
    if (!files.length) throw new NabCorpusError(`${dir}: category directory without .csv files`);
    return files.map((f) => ({ file: path.join(dir, f), category, name: `${category}/${f}` }));
  });
}

/** True when `dataDir` is a directory laid out as NAB's corpus (category directories of CSVs). */
export function isNabCorpusDir(dataDir: string): boolean {
  try {
    return fs.readdirSync(dataDir, { withFileTypes: true }).some((e) => visible(e) && e.isDirectory());
  } catch {
    return false;
  }
}

/**
 * Every data file under `dataDir` (NAB's `<category>/<file>.csv`, or a flat directory as one category)
 * with its windows from NAB's `combined_windows.json`. A file's windows are found by its key
 * `<category>/<file>.csv` (in a flat directory, by its file name alone); a file without a key, or a
 * window that does not start and end on one of the file's rows (NAB's labeller refuses those too), is an
 * error.
 */
export function readNabCorpus(dataDir: string, windowsFile: string): NabSeries[] {
  const layout = nabCorpusLayout(dataDir);
  const windows = readNabWindows(windowsFile);
  const flat = !isNabCorpusDir(dataDir);
  const byBase = new Map<string, string[]>();
  for (const key of windows.keys()) {
    const base = key.slice(key.lastIndexOf('/') + 1);
    byBase.set(base, [...(byBase.get(base) ?? []), key]);
  }
  return layout.map(({ file, category, name }) => {
    const { header, timestamps, values } = readColumns(file, 'timestamp', 'value', 'a NAB data file');
    if (header.join(',') !== 'timestamp,value')
      throw new NabCorpusError(`${file}: a NAB data file has the header "timestamp,value", got "${header}"`);
    let key = name;
    if (!windows.has(key) && flat) {
      const keys = byBase.get(path.basename(file)) ?? [];
      if (keys.length > 1)
        throw new NabCorpusError(`${windowsFile}: ${path.basename(file)} matches ${keys.join(' and ')}`);
      if (keys.length === 1) key = keys[0];
    }
    const wins = windows.get(key);
    if (!wins)
      throw new NabCorpusError(
        `${windowsFile}: no windows for ${name} (keys are "<category>/<file>.csv"; a file with no anomaly has [])`
      );
    const times = new Set(timestamps);
    wins.forEach(([start, end], i) => {
      for (const [which, t] of [
        ['start', start],
        ['end', end],
      ] as const) {
        if (!times.has(t))
          throw new NabCorpusError(
            `${windowsFile}: window ${i} of ${key} ${which}s at ${isoTime(t)}, which is no row of ${file}`
          );
      }
    });
    return { name, category, timestamps, values, windows: wins };
  });
}

/** The detectors under a results directory: its subdirectories, by name. */
export function referenceDetectors(referenceDir: string): string[] {
  try {
    return fs
      .readdirSync(referenceDir, { withFileTypes: true })
      .filter((e) => visible(e) && e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (e) {
    throw new NabCorpusError(`${referenceDir}: cannot read the results directory (${(e as Error).message})`);
  }
}

/**
 * A detector's published anomaly scores for each file, from NAB's results layout
 * `<referenceDir>/<detector>/<category>/<detector>_<file>.csv` (or flat, `<detector>/<detector>_<file>.csv`),
 * read from its `timestamp` and `anomaly_score` columns. A results file with the data file's rows in the
 * same order is taken row for row (as NAB does); otherwise each data row takes the score of the first
 * results row at its time, and a data row with none is an error.
 */
export function readReferenceScores(
  referenceDir: string,
  detector: string,
  files: ReadonlyArray<{ name: string; category: string; timestamps: ArrayLike<number> }>
): Float64Array[] {
  return files.map((f) => {
    const base = f.name.slice(f.name.lastIndexOf('/') + 1).replace(/\.csv$/i, '');
    const candidates = [
      path.join(referenceDir, detector, f.category, `${detector}_${base}.csv`),
      path.join(referenceDir, detector, `${detector}_${base}.csv`),
    ];
    const file = candidates.find((c) => fs.existsSync(c));
    if (!file) throw new NabCorpusError(`no results file for ${f.name}: none of ${candidates.join(', ')}`);
    const got = readColumns(file, 'timestamp', 'anomaly_score', 'a NAB results file');
    const ts = f.timestamps;
    let same = got.timestamps.length === ts.length;
    for (let i = 0; same && i < ts.length; i++) same = got.timestamps[i] === ts[i];
    if (same) return got.values;
    const byTime = new Map<number, number>();
    for (let i = got.timestamps.length - 1; i >= 0; i--) byTime.set(got.timestamps[i], got.values[i]);
    const out = new Float64Array(ts.length);
    for (let i = 0; i < ts.length; i++) {
      const s = byTime.get(ts[i]);
      if (s === undefined)
        throw new NabCorpusError(`${file}: no row for ${isoTime(ts[i])} (row ${i + 1} of ${f.name})`);
      out[i] = s;
    }
    return out;
  });
}
