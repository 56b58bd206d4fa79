/**
 * The canonical series CSV (docs/api.md): `series,timestamp,value[,label]` with a header, timestamps in
 * Unix seconds or RFC 3339, rows in any order. Parsing is strict: a bad row is an error naming its line.
 */
import type { Point } from '../series/types';
import { parseTime } from '../series/time';

export interface LabelledSeries {
  name: string;
  /** Sorted by time, duplicates removed (first kept). */
  points: Point[];
  /** Per point, 1 inside a labelled anomaly window, else 0; present when the file has a label column. */
  labels?: number[];
}

export class DataFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataFormatError';
  }
}

export function parseCanonicalCsv(text: string, source = 'input'): LabelledSeries[] {
  const lines = text.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 0) throw new DataFormatError(`${source}: empty file`);
  const header = lines[0]
    .replace(/^\uFEFF/, '')
    .split(',')
    .map((h) => h.trim());
  const hasLabel = header.length === 4 && header[3] === 'label';
  if (
    !(header[0] === 'series' && header[1] === 'timestamp' && header[2] === 'value') ||
    !(header.length === 3 || hasLabel)
  ) {
    throw new DataFormatError(
      `${source}: header must be "series,timestamp,value" or "series,timestamp,value,label", got "${lines[0]}"`
    );
  }
  if (lines.length === 1) throw new DataFormatError(`${source}: no data rows`);

  const bySeries = new Map<string, Array<[number, number, number]>>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const cells = line.split(',');
    if (cells.length !== header.length) {
      throw new DataFormatError(`${source}:${i + 1}: expected ${header.length} columns, got ${cells.length}`);
    }
    const name = cells[0].trim();
    if (!name) throw new DataFormatError(`${source}:${i + 1}: empty series name`);
    const t = parseTime(cells[1].trim());
    if (t === undefined) throw new DataFormatError(`${source}:${i + 1}: bad timestamp "${cells[1]}"`);
    const raw = cells[2].trim();
    const v = raw === '' ? NaN : Number(raw);
    if (Number.isNaN(v) && !/^(nan)?$/i.test(raw)) {
      throw new DataFormatError(`${source}:${i + 1}: value "${raw}" is not a number`);
    }
    let label = 0;
    if (hasLabel) {
      const l = cells[3].trim();
      if (l !== '0' && l !== '1')
        throw new DataFormatError(`${source}:${i + 1}: label must be 0 or 1, got "${l}"`);
      label = Number(l);
    }
    let rows = bySeries.get(name);
    if (!rows) bySeries.set(name, (rows = []));
    rows.push([t, v, label]);
  }

  const out: LabelledSeries[] = [];
  for (const [name, rows] of bySeries) {
    rows.sort((a, b) => a[0] - b[0]);
    const points: Point[] = [];
    const labels: number[] = [];
    for (const [t, v, l] of rows) {
      if (points.length && points[points.length - 1][0] === t) continue;
      points.push([t, v]);
      labels.push(l);
    }
    out.push(hasLabel ? { name, points, labels } : { name, points });
  }
  return out;
}
