/** One sample: [unix seconds, value]. Seconds inside the backend; the HTTP layer answers in ms. */
export type Point = [t: number, v: number];

export type Labels = Record<string, string>;

/** A series as a source returns it: sorted by time, values may be NaN/±Inf (sources pass them on). */
export interface Series {
  labels: Labels;
  points: Point[];
}

/** A run of equally spaced, finite values: value i is at `start + i * step`. */
export interface Segment {
  start: number;
  step: number;
  values: number[];
}

/**
 * A series as parallel arrays, sorted by time: how a large answer travels from the source to the response
 * without a [t, v] array per sample (a 1000-series dashboard query holds ~150 000 samples). Once a source
 * has answered, nothing writes into its arrays: the history cache and the answer memo keep them as views.
 */
export interface ColumnSeries {
  labels: Labels;
  times: Float64Array;
  values: Float64Array;
  /** How the source wrote each sample, where it knows: an answer can copy the text instead of formatting. */
  text?: SampleText;
}

/**
 * Where each sample's text sits in the source's answer. A length of 0 means the text is not in the plain
 * form a copy needs.
 */
export interface SampleText {
  bytes: Uint8Array;
  /** The timestamp token; its length when it is whole seconds without sign or leading zero. */
  timeAt: Uint32Array;
  timeLen: Uint8Array;
  /** The value's text; its length when it is a plain decimal, valid as a JSON number. */
  valueAt: Uint32Array;
  valueLen: Uint8Array;
}
