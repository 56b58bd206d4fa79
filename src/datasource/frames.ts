// Backend answers → Grafana DataFrames: one frame per (series, kind), named and typed for stock panels too.
import { DataFrame, Field, FieldConfig, FieldType, ThresholdsMode, createDataFrame } from '@grafana/data';

import { AnomaliesAnswer, ForecastAnswer, Labels } from '../shared/contract';
import { FrameKind, PrescalerFrameMeta } from './types';

export interface FrameOptions {
  refId: string;
  kinds: FrameKind[];
  legendFormat?: string;
  unit?: string;
  executedQueryString?: string;
}

/** Stable identity of a label set, independent of key order. */
export function seriesKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
}

/** `{{label}}` templating like Prometheus' legend format; default is the label set in PromQL form. */
export function seriesName(labels: Labels, legendFormat?: string, fallback = 'series'): string {
  if (legendFormat) {
    return legendFormat.replace(/\{\{\s*(.+?)\s*\}\}/g, (_m, name: string) => labels[name] ?? '');
  }
  const metric = labels.__name__ ?? '';
  const rest = Object.keys(labels)
    .filter((k) => k !== '__name__')
    .sort()
    .map((k) => `${k}="${labels[k]}"`);
  if (!metric && rest.length === 0) {
    return fallback;
  }
  return rest.length ? `${metric}{${rest.join(', ')}}` : metric;
}

function timeField(values: number[]): Field {
  return { name: 'Time', type: FieldType.time, values, config: {} };
}

function numberField(name: string, values: Array<number | null>, labels: Labels, config: FieldConfig): Field {
  return { name, type: FieldType.number, values, labels, config };
}

function frame(
  kind: FrameKind,
  key: string,
  name: string,
  opts: FrameOptions,
  fields: Field[],
  extra: Partial<PrescalerFrameMeta> & { warning?: string } = {}
): DataFrame {
  const { warning, ...rest } = extra;
  const meta: PrescalerFrameMeta = { kind, series: key, seriesName: name, ...rest };
  return createDataFrame({
    refId: opts.refId,
    name: `${name} ${kind}`,
    fields,
    meta: {
      executedQueryString: opts.executedQueryString,
      // Grafana shows notices in the panel header, so a series the backend could not handle says why.
      notices: warning ? [{ severity: 'warning', text: `${name}: ${warning}` }] : undefined,
      custom: { prescaler: meta },
    },
  });
}

export function forecastFrames(response: ForecastAnswer, opts: FrameOptions): DataFrame[] {
  const frames: DataFrame[] = [];
  const unitConfig: FieldConfig = opts.unit ? { unit: opts.unit } : {};
  for (const series of response.series) {
    const key = seriesKey(series.labels);
    const name = seriesName(series.labels, opts.legendFormat, opts.executedQueryString);
    const model = series.model;
    const warning = series.warning;
    if (opts.kinds.includes('actual')) {
      frames.push(
        frame('actual', key, name, opts, [
          timeField(series.actual.map((p) => p[0])),
          numberField(
            'Value',
            series.actual.map((p) => p[1]),
            series.labels,
            { ...unitConfig, displayNameFromDS: name }
          ),
        ])
      );
    }
    if (opts.kinds.includes('forecast')) {
      frames.push(
        frame(
          'forecast',
          key,
          name,
          opts,
          [
            timeField(series.forecast.map((p) => p[0])),
            numberField(
              'Forecast',
              series.forecast.map((p) => p[1]),
              series.labels,
              {
                ...unitConfig,
                displayNameFromDS: `${name} forecast`,
                description: model ? `Forecast by ${model}` : undefined,
                custom: { lineStyle: { fill: 'dash', dash: [10, 10] } },
              }
            ),
          ],
          { model, warning }
        )
      );
    }
    if (opts.kinds.includes('band')) {
      const lowerName = `${name} forecast lower`;
      frames.push(
        frame(
          'band',
          key,
          name,
          opts,
          [
            timeField(series.forecast.map((p) => p[0])),
            numberField(
              'Lower',
              series.forecast.map((p) => p[2]),
              series.labels,
              { ...unitConfig, displayNameFromDS: lowerName, custom: { lineWidth: 0 } }
            ),
            // fillBelowTo lets the stock Time series panel shade the band between the two fields.
            numberField(
              'Upper',
              series.forecast.map((p) => p[3]),
              series.labels,
              {
                ...unitConfig,
                displayNameFromDS: `${name} forecast upper`,
                custom: { lineWidth: 0, fillBelowTo: lowerName, fillOpacity: 20 },
              }
            ),
          ],
          { model }
        )
      );
    }
  }
  return frames;
}

export function anomalyFrames(response: AnomaliesAnswer, opts: FrameOptions): DataFrame[] {
  const frames: DataFrame[] = [];
  const unitConfig: FieldConfig = opts.unit ? { unit: opts.unit } : {};
  for (const series of response.series) {
    const key = seriesKey(series.labels);
    const name = seriesName(series.labels, opts.legendFormat, opts.executedQueryString);
    const threshold = typeof series.threshold === 'number' ? series.threshold : undefined;
    const warning = series.warning;
    const scoreConfig: FieldConfig = {
      unit: 'percentunit',
      min: 0,
      max: 1,
      decimals: 2,
      thresholds: {
        mode: ThresholdsMode.Absolute,
        steps: [
          { value: -Infinity, color: 'green' },
          ...(threshold !== undefined ? [{ value: threshold, color: 'red' }] : []),
        ],
      },
    };
    if (opts.kinds.includes('score')) {
      frames.push(
        frame(
          'score',
          key,
          name,
          opts,
          [
            timeField(series.scores.map((p) => p[0])),
            numberField(
              'Score',
              series.scores.map((p) => p[1]),
              series.labels,
              { ...scoreConfig, displayNameFromDS: `${name} anomaly score` }
            ),
          ],
          { threshold, warning }
        )
      );
    }
    if (opts.kinds.includes('anomalies')) {
      frames.push(
        frame(
          'anomalies',
          key,
          name,
          opts,
          [
            timeField(series.anomalies.map((p) => p[0])),
            numberField(
              'Value',
              series.anomalies.map((p) => p[1]),
              series.labels,
              { ...unitConfig, displayNameFromDS: `${name} anomaly` }
            ),
            numberField(
              'Score',
              series.anomalies.map((p) => p[2]),
              series.labels,
              { ...scoreConfig, displayNameFromDS: `${name} anomaly score` }
            ),
          ],
          { threshold, warning: opts.kinds.includes('score') ? undefined : warning }
        )
      );
    }
  }
  return frames;
}

/** Reads the tag that forecastFrames/anomalyFrames put on a frame; undefined for foreign frames. */
export function prescalerMeta(frame: DataFrame): PrescalerFrameMeta | undefined {
  const meta = frame.meta?.custom?.prescaler as PrescalerFrameMeta | undefined;
  return meta && typeof meta.kind === 'string' ? meta : undefined;
}
