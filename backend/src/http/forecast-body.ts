/**
 * The body of a /api/forecast answer (docs/api.md: `{series: [{labels, actual, forecast, model}]}`), written
 * as bytes: for a 1000-series dashboard this is ~4 MB, and building it as objects for JSON.stringify cost
 * more than the forecast itself.
 */
import { ms } from '../contract/time';
import type { ShownSeries } from '../forecast/answer';
import type { ColumnSeries } from '../series/types';
import { JsonWriter } from './json-writer';

export type { ShownSeries };

/**
 * Significant digits of forecast values: the network computes in float32 (~7 digits); the further digits
 * that scaling back in float64 adds are noise, and writing them costs a slow exact conversion each.
 */
export const FORECAST_DIGITS = 7;

/** Room one [t, v] pair can take: 22 characters of milliseconds, 25 of value, 5 of punctuation. */
const PAIR_BYTES = 64;
const COMMA = 0x2c;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const ZERO = 0x30;

/**
 * The `actual` pairs from index `from`, non-finite samples left out (a gap, as Prometheus' NaN means).
 * Where the source kept the sample's plain text, it is copied (whole seconds become milliseconds by
 * appending 000): several times cheaper than formatting a double, and this loop runs ~150 000 times for a
 * 1000-series dashboard.
 */
function writeActual(w: JsonWriter, series: ColumnSeries, from: number): void {
  const { times, values, text } = series;
  const n = times.length;
  let buf = w.reserve((n - from) * PAIR_BYTES);
  let p = w.position;
  let first = true;
  for (let j = from; j < n; j++) {
    const t = times[j];
    const v = values[j];
    if (!Number.isFinite(t) || !Number.isFinite(v)) continue;
    if (!first) buf[p++] = COMMA;
    first = false;
    if (text && text.timeLen[j] > 0 && text.valueLen[j] > 0) {
      const src = text.bytes;
      buf[p++] = OPEN;
      for (let k = text.timeAt[j], end = k + text.timeLen[j]; k < end; k++) buf[p++] = src[k];
      buf[p++] = ZERO;
      buf[p++] = ZERO;
      buf[p++] = ZERO;
      buf[p++] = COMMA;
      for (let k = text.valueAt[j], end = k + text.valueLen[j]; k < end; k++) buf[p++] = src[k];
      buf[p++] = CLOSE;
    } else {
      w.advance(p);
      w.raw('[').number(ms(t)).raw(',').number(v).raw(']');
      buf = w.reserve((n - j) * PAIR_BYTES); // the writer may have moved to a larger buffer
      p = w.position;
    }
  }
  w.advance(p);
}

export function forecastBody(shown: readonly ShownSeries[], model: string): Buffer {
  let samples = 0;
  for (const s of shown) samples += s.series.times.length - s.from;
  // ~26 bytes per [t, v] pair; a little more for labels and six forecast points per series.
  const w = new JsonWriter(samples * 28 + shown.length * 512 + 64);
  w.raw('{"series":[');
  shown.forEach(({ series, from, forecast }, i) => {
    if (i > 0) w.raw(',');
    w.raw('{"labels":').value(series.labels).raw(',"actual":[');
    writeActual(w, series, from);
    w.raw('],"forecast":[');
    (forecast?.forecast ?? []).forEach(([t, v, lo, hi], k) => {
      w.raw(k ? ',[' : '[')
        .number(ms(t))
        .raw(',')
        .rounded(v, FORECAST_DIGITS)
        .raw(',')
        .rounded(lo, FORECAST_DIGITS)
        .raw(',')
        .rounded(hi, FORECAST_DIGITS)
        .raw(']');
    });
    w.raw('],"model":').value(model);
    const warning = forecast ? forecast.warning : 'series absent from the model-step query';
    if (warning) w.raw(',"warning":').value(warning);
    w.raw('}');
  });
  w.raw(']}');
  return w.bytes();
}
