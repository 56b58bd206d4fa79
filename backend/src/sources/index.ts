/** Picks the series source: Prometheus when a URL is configured, else the built-in demo (docs/api.md). */
import { DemoSource } from './demo';
import { PrometheusSource, type UpstreamOutcome } from './prometheus';

export { DemoSource } from './demo';
export type { DemoAnomaly, DemoAnomalyKind, DemoSourceOptions, InjectAnomalyOptions } from './demo';
export { PrometheusSource } from './prometheus';
export type { PrometheusBuildInfo, PrometheusSourceOptions, UpstreamOutcome } from './prometheus';
export type { RangeQuery, SeriesSource } from './types';

export interface SourceOptions {
  /** Empty or absent: the demo source. */
  prometheusUrl?: string;
  prometheusBearerToken?: string;
  /** Sent with every upstream request (e.g. X-Scope-OrgID). */
  headers?: Record<string, string>;
  /** Thanos' partial_response on every query; unset: not sent. */
  partialResponse?: boolean;
  timeoutMs?: number;
  retries?: number;
  maxPointsPerSeries?: number;
  maxSeries?: number;
  onUpstreamLatency?: (seconds: number, outcome: UpstreamOutcome) => void;
  splitInterval?: number;
  splitParallelism?: number;
  demoSeed?: number;
}

/** Both sources also answer `ping()` for the health endpoint. */
export type Source = PrometheusSource | DemoSource;

export function createSource(opts: SourceOptions = {}): Source {
  const url = opts.prometheusUrl?.trim();
  if (url) {
    return new PrometheusSource({
      baseUrl: url,
      bearerToken: opts.prometheusBearerToken?.trim() || undefined,
      headers: opts.headers,
      partialResponse: opts.partialResponse,
      timeoutMs: opts.timeoutMs,
      retries: opts.retries,
      maxPointsPerSeries: opts.maxPointsPerSeries,
      maxSeries: opts.maxSeries,
      onUpstreamLatency: opts.onUpstreamLatency,
      splitInterval: opts.splitInterval,
      splitParallelism: opts.splitParallelism,
    });
  }
  return new DemoSource({ seed: opts.demoSeed, maxPointsPerSeries: opts.maxPointsPerSeries });
}
