// Frames from the Prescaler data source → one record per source series, keyed by its label set.
import { DataFrame, Field, FieldType } from '@grafana/data';

import { prescalerMeta } from '../../datasource/frames';

export interface TimePoint {
  t: number;
  v: number | null;
}

export interface BandPoint {
  t: number;
  lower: number | null;
  upper: number | null;
}

export interface AnomalyPoint {
  t: number;
  v: number;
  score: number;
}

export interface CollectedSeries {
  key: string;
  name: string;
  unit?: string;
  decimals?: number;
  actual: TimePoint[];
  forecast: TimePoint[];
  band: BandPoint[];
  score: TimePoint[];
  anomalies: AnomalyPoint[];
  threshold?: number;
  model?: string;
  /** Every label value seen on the series, to match a scaling target by name. */
  labelValues: string[];
}

/**
 * Identity of a source series inside the panel: its query and its label set, so two queries over the same
 * workload (say, different horizons) stay two series.
 */
export function seriesIdOf(frame: DataFrame, meta: { series: string }): string {
  return `${frame.refId ?? ''}:${meta.series}`;
}

function timeValues(frame: DataFrame): number[] | undefined {
  return frame.fields.find((f) => f.type === FieldType.time)?.values as number[] | undefined;
}

function numberField(frame: DataFrame, name: string): Field | undefined {
  return frame.fields.find((f) => f.type === FieldType.number && f.name === name);
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function points(times: number[], field: Field | undefined): TimePoint[] {
  if (!field) {
    return [];
  }
  return times.map((t, i) => ({ t, v: num(field.values[i]) }));
}

export function collectSeries(frames: DataFrame[]): CollectedSeries[] {
  const byKey = new Map<string, CollectedSeries>();
  for (const frame of frames) {
    const meta = prescalerMeta(frame);
    const times = timeValues(frame);
    if (!meta || !times) {
      continue;
    }
    const key = seriesIdOf(frame, meta);
    let series = byKey.get(key);
    if (!series) {
      series = {
        key,
        name: meta.seriesName,
        actual: [],
        forecast: [],
        band: [],
        score: [],
        anomalies: [],
        labelValues: [],
      };
      byKey.set(key, series);
    }
    for (const field of frame.fields) {
      for (const value of Object.values(field.labels ?? {})) {
        if (!series.labelValues.includes(value)) {
          series.labelValues.push(value);
        }
      }
    }
    series.model = series.model ?? meta.model;
    series.threshold = series.threshold ?? meta.threshold;
    switch (meta.kind) {
      case 'actual': {
        const field = numberField(frame, 'Value');
        series.actual = points(times, field);
        series.unit = series.unit ?? field?.config.unit;
        series.decimals = series.decimals ?? field?.config.decimals ?? undefined;
        break;
      }
      case 'forecast': {
        const field = numberField(frame, 'Forecast');
        series.forecast = points(times, field);
        series.unit = series.unit ?? field?.config.unit;
        break;
      }
      case 'band': {
        const lower = numberField(frame, 'Lower');
        const upper = numberField(frame, 'Upper');
        series.band = times.map((t, i) => ({
          t,
          lower: num(lower?.values[i]),
          upper: num(upper?.values[i]),
        }));
        break;
      }
      case 'score':
        series.score = points(times, numberField(frame, 'Score'));
        break;
      case 'anomalies': {
        const value = numberField(frame, 'Value');
        const score = numberField(frame, 'Score');
        series.anomalies = times.flatMap((t, i) => {
          const v = num(value?.values[i]);
          return v === null ? [] : [{ t, v, score: num(score?.values[i]) ?? 1 }];
        });
        break;
      }
    }
  }
  return [...byKey.values()];
}
