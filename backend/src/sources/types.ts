/** A source of metric series: Prometheus (or anything speaking its HTTP API) or the built-in demo. */
import { toColumns } from '../series/columns';
import type { ColumnSeries, Series } from '../series/types';

export interface RangeQuery {
  /** PromQL (the demo source answers plain selectors of its own metrics). */
  query: string;
  /** Unix seconds, inclusive. */
  start: number;
  end: number;
  /** Seconds between points, > 0. */
  step: number;
}

/** How a caller wants a query answered; sources without a cache ignore it. */
export interface QueryOptions {
  /** Read everything from the upstream, not from a cache (`Cache-Control: no-cache`); the answer is still kept. */
  refresh?: boolean;
  /**
   * Neither answer from nor keep in a cache: a range on a grid no later request will share, such as one
   * whose start was left to default to now − 24 h (now to the millisecond).
   */
  bypass?: boolean;
}

export interface SeriesSource {
  readonly kind: 'prometheus' | 'demo';
  /**
   * Evaluates a range query. Throws PrescalerError: `bad_query` (400, carrying the upstream message),
   * `too_large` (413: too many points per series or series per query), `upstream_error` (502),
   * `upstream_timeout` (504). Values may be NaN/±Inf as the upstream sent them.
   */
  queryRange(q: RangeQuery, signal?: AbortSignal): Promise<Series[]>;
  /** Whether the upstream answers at all (`/api/health`), with its version where it says. */
  ping?(signal?: AbortSignal): Promise<{ version: string | null }>;
  /** The same answer as parallel typed arrays, where the source can give it without building points. */
  queryRangeColumns?(q: RangeQuery, signal?: AbortSignal, opts?: QueryOptions): Promise<ColumnSeries[]>;
}

/** A range query's answer as columns, from any source. */
export async function queryColumns(
  source: SeriesSource,
  q: RangeQuery,
  signal?: AbortSignal,
  opts?: QueryOptions
): Promise<ColumnSeries[]> {
  if (source.queryRangeColumns) return source.queryRangeColumns(q, signal, opts);
  return (await source.queryRange(q, signal)).map(toColumns);
}
