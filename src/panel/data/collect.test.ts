import { toDataFrame } from '@grafana/data';

import { collectSeries } from './collect';
import { geometryFrames, tagged } from './fixtures';

describe('collectSeries', () => {
  it('groups the frames of one series and reads each kind', () => {
    const [s] = collectSeries(geometryFrames);
    expect(s).toMatchObject({
      key: 'A:deployment="web"',
      name: 'web',
      unit: 'short',
      model: 'lstm@1',
      threshold: 0.7,
      labelValues: ['web'],
    });
    expect(s.actual).toEqual([
      { t: 0, v: 5 },
      { t: 500, v: null },
      { t: 1000, v: 45 },
    ]);
    expect(s.forecast).toEqual([
      { t: 1500, v: 50 },
      { t: 2000, v: 60 },
    ]);
    expect(s.band).toEqual([
      { t: 1500, lower: 40, upper: 60 },
      { t: 2000, lower: 45, upper: 105 },
    ]);
    expect(s.anomalies).toEqual([{ t: 500, v: 30, score: 1 }]);
  });

  it('ignores frames that did not come from the Prescaler data source', () => {
    const foreign = toDataFrame({
      fields: [
        { name: 'Time', values: [1] },
        { name: 'Value', values: [2] },
      ],
    });
    expect(collectSeries([foreign])).toEqual([]);
  });

  it('keeps series apart by key', () => {
    const other = tagged('actual', [
      { name: 'Time', values: [0] },
      { name: 'Value', values: [1] },
    ]);
    other.meta!.custom!.prescaler = { kind: 'actual', series: 'deployment="api"', seriesName: 'api' };
    expect(collectSeries([...geometryFrames, other]).map((s) => s.name)).toEqual(['web', 'api']);
  });

  it('keeps the same label set from two queries apart', () => {
    const again = tagged('actual', [
      { name: 'Time', values: [0] },
      { name: 'Value', values: [1] },
    ]);
    again.refId = 'B';
    expect(collectSeries([...geometryFrames, again]).map((s) => s.key)).toEqual([
      'A:deployment="web"',
      'B:deployment="web"',
    ]);
  });
});
