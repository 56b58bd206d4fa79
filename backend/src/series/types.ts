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
