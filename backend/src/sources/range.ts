/** Checks every source applies to a range query before evaluating it, and the times it is evaluated at. */
import { PrescalerError } from '../errors';
import type { RangeQuery } from './types';

/** Prometheus refuses ranges of more than 11 000 points per series; we refuse before asking. */
export const DEFAULT_MAX_POINTS_PER_SERIES = 11000;
export const DEFAULT_MAX_SERIES = 2000;

/** Number of evaluation times: start, start + step, … up to end inclusive (as Prometheus does). */
export function pointsPerSeries(q: RangeQuery): number {
  return Math.floor((q.end - q.start) / q.step) + 1;
}

/** Throws `bad_request` for a malformed range and `too_large` for one with more points than `maxPoints`. */
export function assertRange(q: RangeQuery, maxPoints: number): void {
  if (typeof q.query !== 'string' || q.query.trim() === '') {
    throw new PrescalerError('bad_request', 'query must not be empty');
  }
  if (!Number.isFinite(q.start) || !Number.isFinite(q.end)) {
    throw new PrescalerError(
      'bad_request',
      `start and end must be finite times, got ${q.start} and ${q.end}`
    );
  }
  if (!(q.step > 0) || !Number.isFinite(q.step)) {
    throw new PrescalerError('bad_request', `step must be a positive number of seconds, got ${q.step}`);
  }
  if (q.end < q.start) {
    throw new PrescalerError('bad_request', `end (${q.end}) is before start (${q.start})`);
  }
  const n = pointsPerSeries(q);
  if (n > maxPoints) {
    throw new PrescalerError(
      'too_large',
      `range of ${q.end - q.start} s at step ${q.step} s is ${n} points per series, more than the limit of ` +
        `${maxPoints}; use a larger step or a shorter range`
    );
  }
}

/** The evaluation times of a (checked) range query. */
export function rangeTimes(q: RangeQuery): number[] {
  const n = pointsPerSeries(q);
  const times = new Array<number>(n);
  for (let i = 0; i < n; i++) times[i] = q.start + i * q.step;
  return times;
}
