// Frames as the data source tags them, built with toDataFrame; small enough to check by hand.
import { DataFrame, FieldType, toDataFrame } from '@grafana/data';

import { FrameKind } from '../../datasource/types';

const labels = { deployment: 'web' };

export function tagged(
  kind: FrameKind,
  fields: Array<{ name: string; values: Array<number | null> }>,
  extra = {}
): DataFrame {
  return toDataFrame({
    refId: 'A',
    name: `web ${kind}`,
    meta: { custom: { prescaler: { kind, series: 'deployment="web"', seriesName: 'web', ...extra } } },
    fields: fields.map((f) =>
      f.name === 'Time'
        ? { name: 'Time', type: FieldType.time, values: f.values }
        : { name: f.name, type: FieldType.number, values: f.values, labels, config: { unit: 'short' } }
    ),
  });
}

/** One series `web` with every kind: a gap in the actual, a two-point forecast and band, one anomaly. */
export const geometryFrames: DataFrame[] = [
  tagged('actual', [
    { name: 'Time', values: [0, 500, 1000] },
    { name: 'Value', values: [5, null, 45] },
  ]),
  tagged(
    'forecast',
    [
      { name: 'Time', values: [1500, 2000] },
      { name: 'Forecast', values: [50, 60] },
    ],
    { model: 'lstm@1' }
  ),
  tagged('band', [
    { name: 'Time', values: [1500, 2000] },
    { name: 'Lower', values: [40, 45] },
    { name: 'Upper', values: [60, 105] },
  ]),
  tagged(
    'anomalies',
    [
      { name: 'Time', values: [500] },
      { name: 'Value', values: [30] },
      { name: 'Score', values: [1] },
    ],
    { threshold: 0.7 }
  ),
];
