/** Times of series: the API's and CLIs' time and duration parsers (docs/api.md "Conventions"), spacing. Seconds. */

// The parsers are the HTTP contract's (contract/time.ts), compiled into the plugin too; re-exported here for
// the backend's CLIs, config and data loaders.
export { parseDuration, parseTime } from '../contract/time';

/** The spacing most of a series' samples have. */
export function medianSpacing(ts: readonly number[]): number {
  const d = ts
    .slice(1)
    .map((t, i) => t - ts[i])
    .sort((a, b) => a - b);
  return d.length ? d[Math.floor(d.length / 2)] : NaN;
}
