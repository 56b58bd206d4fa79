import { FieldType } from '@grafana/data';

import { anomalyFrames, forecastFrames, prescalerMeta, seriesKey, seriesName } from './frames';
import { STEP, T0, anomaliesResponse, forecastResponse } from './fixtures';

const opts = { refId: 'A', kinds: ['actual', 'forecast', 'band', 'score', 'anomalies'] as const };

describe('seriesName', () => {
  it('renders the label set in PromQL form, sorted', () => {
    expect(seriesName({ namespace: 'default', deployment: 'web' })).toBe(
      '{deployment="web", namespace="default"}'
    );
    expect(seriesName({ __name__: 'cpu', pod: 'a' })).toBe('cpu{pod="a"}');
  });
  it('applies a legend format and falls back for empty label sets', () => {
    expect(seriesName({ deployment: 'web' }, '{{deployment}} cpu')).toBe('web cpu');
    expect(seriesName({}, undefined, 'sum(x)')).toBe('sum(x)');
  });
});

describe('seriesKey', () => {
  it('does not depend on label order', () => {
    expect(seriesKey({ a: '1', b: '2' })).toBe(seriesKey({ b: '2', a: '1' }));
  });
});

describe('forecastFrames', () => {
  const frames = forecastFrames(forecastResponse, {
    ...opts,
    kinds: [...opts.kinds],
    legendFormat: '{{deployment}}',
    unit: 'cores',
  });

  it('returns actual, forecast and band frames tagged for the panel', () => {
    expect(frames.map((f) => prescalerMeta(f)?.kind)).toEqual(['actual', 'forecast', 'band']);
    expect(frames.every((f) => f.refId === 'A')).toBe(true);
    expect(prescalerMeta(frames[1])).toMatchObject({
      series: seriesKey({ deployment: 'web', namespace: 'default' }),
      model: 'lstm',
    });
  });

  it('keeps times in ms, gaps as missing points, and names fields for stock panels', () => {
    const [actual, forecast, band] = frames;
    expect(actual.fields[0]).toMatchObject({ name: 'Time', type: FieldType.time });
    expect(actual.fields[0].values).toEqual([T0, T0 + STEP, T0 + 3 * STEP]);
    expect(actual.fields[1].values).toEqual([1.0, 1.2, 1.6]);
    expect(actual.fields[1].config).toMatchObject({ unit: 'cores', displayNameFromDS: 'web' });
    expect(actual.fields[1].labels).toEqual({ deployment: 'web', namespace: 'default' });
    expect(forecast.fields[1]).toMatchObject({ name: 'Forecast', values: [1.8, 2.0] });
    expect(forecast.fields[1].config.displayNameFromDS).toBe('web forecast');
    expect(band.fields.map((f) => f.name)).toEqual(['Time', 'Lower', 'Upper']);
    expect(band.fields[1].values).toEqual([1.5, 1.6]);
    expect(band.fields[2].values).toEqual([2.1, 2.4]);
    expect(band.fields[2].config.custom.fillBelowTo).toBe('web forecast lower');
  });

  it('returns only the kinds asked for', () => {
    const only = forecastFrames(forecastResponse, { refId: 'B', kinds: ['band'] });
    expect(only.map((f) => prescalerMeta(f)?.kind)).toEqual(['band']);
  });
});

describe('anomalyFrames', () => {
  const frames = anomalyFrames(anomaliesResponse, { ...opts, kinds: [...opts.kinds] });

  it('returns the score as a 0..1 percent unit with the threshold as a red step', () => {
    const score = frames.find((f) => prescalerMeta(f)?.kind === 'score')!;
    expect(score.fields[1].values).toEqual([0.1, 0.92, 0.3, 0.2]);
    expect(score.fields[1].config).toMatchObject({ unit: 'percentunit', min: 0, max: 1 });
    expect(score.fields[1].config.thresholds?.steps[1]).toEqual({ value: 0.7, color: 'red' });
    expect(prescalerMeta(score)?.threshold).toBe(0.7);
  });

  it('returns anomalies as time, value and score', () => {
    const anomalies = frames.find((f) => prescalerMeta(f)?.kind === 'anomalies')!;
    expect(anomalies.fields.map((f) => [f.name, f.values])).toEqual([
      ['Time', [T0 + STEP]],
      ['Value', [1.2]],
      ['Score', [0.92]],
    ]);
  });
});

describe('backend warnings', () => {
  it('become a warning notice on the frame and a null threshold adds no red step', () => {
    const [score] = anomalyFrames(
      {
        series: [
          {
            labels: { deployment: 'api' },
            scores: [],
            anomalies: [],
            threshold: null,
            warning: 'need 144 points',
          },
        ],
      },
      { refId: 'A', kinds: ['score'] }
    );
    expect(score.meta?.notices).toEqual([
      { severity: 'warning', text: '{deployment="api"}: need 144 points' },
    ]);
    expect(score.fields[1].config.thresholds?.steps).toEqual([{ value: -Infinity, color: 'green' }]);
  });
});
