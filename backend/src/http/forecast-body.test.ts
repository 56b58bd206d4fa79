import { mulberry32 } from '../series/random';
import { parseJsonBytes, type SamplePairs } from '../sources/json-bytes';
import type { ColumnSeries } from '../series/types';
import { FORECAST_DIGITS, forecastBody, type ShownSeries } from './forecast-body';

const column = (labels: Record<string, string>, points: Array<[number, number]>): ColumnSeries => ({
  labels,
  times: Float64Array.from(points, (p) => p[0]),
  values: Float64Array.from(points, (p) => p[1]),
});

describe('forecastBody', () => {
  it('is the docs/api.md answer: actual from `from` on in ms without gaps, forecast in ms, model, warnings', () => {
    const a = column({ pod: 'a', név: 'é' }, [
      [1000, 1],
      [1600, 2.5],
      [2200, NaN],
      [2800, Infinity],
      [3400, 0.1 + 0.2],
      [4000.5, -3.25],
    ]);
    const b = column({ pod: 'b' }, [[1600, 7]]);
    const c = column({}, []);
    const shown: ShownSeries[] = [
      {
        series: a,
        from: 1,
        forecast: { labels: a.labels, forecast: [[4600.5, 1.5, 1, 2.000001]] },
      },
      { series: b, from: 0, forecast: { labels: b.labels, forecast: [], warning: 'history too short' } },
      { series: c, from: 0, forecast: undefined },
    ];
    expect(JSON.parse(forecastBody(shown, 'm@1').toString())).toEqual({
      series: [
        {
          labels: { pod: 'a', név: 'é' },
          actual: [
            [1600000, 2.5],
            [3400000, 0.1 + 0.2],
            [4000500, -3.25],
          ],
          forecast: [[4600500, 1.5, 1, 2.000001]],
          model: 'm@1',
        },
        {
          labels: { pod: 'b' },
          actual: [[1600000, 7]],
          forecast: [],
          model: 'm@1',
          warning: 'history too short',
        },
        {
          labels: {},
          actual: [],
          forecast: [],
          model: 'm@1',
          warning: 'series absent from the model-step query',
        },
      ],
    });
  });

  it('holds every actual value exactly on a large answer, forecasts to FORECAST_DIGITS', () => {
    const rng = mulberry32(1);
    const shown: ShownSeries[] = Array.from({ length: 50 }, (_, s) => {
      const points = Array.from({ length: 150 }, (_, i): [number, number] => [
        1.7e9 + i * 600,
        Math.round(rng() * 4e4) / 1e4,
      ]);
      const series = column({ pod: `p${s}` }, points);
      return {
        series,
        from: 0,
        forecast: { labels: series.labels, forecast: [[1.8e9, rng(), rng() / 2, 1 + rng()]] },
      };
    });
    const back = JSON.parse(forecastBody(shown, 'm').toString()) as {
      series: Array<{ actual: number[][]; forecast: number[][] }>;
    };
    back.series.forEach((s, i) => {
      expect(s.actual).toEqual(
        Array.from(shown[i].series.times, (t, j) => [t * 1000, shown[i].series.values[j]])
      );
      const [t, v, lo, hi] = shown[i].forecast!.forecast[0];
      // Forecast values carry FORECAST_DIGITS significant digits.
      expect(s.forecast.length).toBe(1);
      const [ft, ...fv] = s.forecast[0];
      expect(ft).toBe(t * 1000);
      [v, lo, hi].forEach((x, k) =>
        expect(Math.abs(fv[k] - x)).toBeLessThanOrEqual(Math.abs(x) * 5 * 10 ** -FORECAST_DIGITS)
      );
    });
  });

  it('copies the upstream text of plain samples and formats the others, to the same values', () => {
    const answer =
      '{"values":[[1700000000,"1.5"],[1700000060.5,"2"],[1700000120,"1e3"],[1700000180,"-0.25"],' +
      '[1700000240,"NaN"],[1700000300,"+Inf"],[1700000360,"0.30000000000000004"],[1700000420,"007"]]}';
    const { times, values, text } = (
      parseJsonBytes(new TextEncoder().encode(answer)) as { values: SamplePairs }
    ).values;
    const series: ColumnSeries = { labels: { a: 'b' }, times, values, text };
    const body = forecastBody([{ series, from: 1, forecast: { labels: series.labels, forecast: [] } }], 'm');
    expect(body.toString()).toContain(
      '"actual":[[1700000060500,2],[1700000120000,1000],[1700000180000,-0.25],[1700000360000,0.30000000000000004],[1700000420000,7]]'
    );
    expect(JSON.parse(body.toString()).series[0].actual).toEqual([
      [1700000060500, 2],
      [1700000120000, 1000],
      [1700000180000, -0.25],
      [1700000360000, 0.30000000000000004],
      [1700000420000, 7],
    ]);
  });
});
