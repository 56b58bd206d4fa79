import { DataSourceJsonData } from '@grafana/data';
import { DataQuery } from '@grafana/schema';

/** The frames a query can return; `score` is the anomaly score in [0, 1]. */
export type FrameKind = 'actual' | 'forecast' | 'band' | 'score' | 'anomalies';

export const FRAME_KINDS: FrameKind[] = ['actual', 'forecast', 'band', 'score', 'anomalies'];

export const FRAME_KIND_LABELS: Record<FrameKind, string> = {
  actual: 'Actual',
  forecast: 'Forecast',
  band: 'Forecast band',
  score: 'Anomaly score',
  anomalies: 'Anomalies',
};

export interface PrescalerQuery extends DataQuery {
  /** PromQL (or a demo selector when the backend runs without Prometheus). */
  expr: string;
  /** Resampling step, seconds or Prometheus form (`10m`); empty = backend default (600 s). */
  step?: string;
  /** How far ahead to forecast; empty = backend default (1h). */
  horizon?: string;
  frames?: FrameKind[];
  /** Series name template, `{{label}}` placeholders as in Prometheus. */
  legendFormat?: string;
  /** Grafana unit id for the series' values (`short`, `percent`, …). */
  unit?: string;
}

export const DEFAULT_QUERY: Partial<PrescalerQuery> = {
  expr: '',
  horizon: '1h',
  frames: ['actual', 'forecast', 'band', 'anomalies'],
};

export interface PrescalerJsonData extends DataSourceJsonData {
  /** Base URL of the Prescaler backend as Grafana's server sees it, e.g. http://prescaler:8080. */
  backendUrl?: string;
}

export interface PrescalerSecureJsonData {
  token?: string;
}

/** Attached to every frame's meta.custom so the panel can tell frames apart without parsing names. */
export interface PrescalerFrameMeta {
  kind: FrameKind;
  /** Stable key of the source series (its label set). */
  series: string;
  seriesName: string;
  model?: string;
  threshold?: number;
}
