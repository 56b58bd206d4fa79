import { persistence, seasonalNaive } from '../forecast/baselines';
import type { ForecastModel } from '../forecast/model';
import type { Point } from '../series/types';
import { backtest } from './backtest';
import { backtestReport } from './report';

describe('backtestReport', () => {
  it('is one self-contained page with error charts, traces and intervals', async () => {
    const points = Array.from(
      { length: 600 },
      (_, i) => [1_700_000_400 + i * 600, 5 + Math.sin(i / 20)] as Point
    );
    const banded: ForecastModel = {
      name: 'banded<x>',
      predict: (origins, h) =>
        (persistence().predict(origins, h) as { mean: Float64Array }[]).map(({ mean }) => ({
          mean,
          lower: mean.map((v) => v - 0.1),
          upper: mean.map((v) => v + 0.1),
        })),
    };
    const r = await backtest([{ name: 's&1', points }], [persistence(), seasonalNaive(600), banded], {
      traceSeries: [0],
    });
    const html = backtestReport('demo', r);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    // No external assets: nothing is fetched (the SVG namespace is an identifier, not a request).
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(
      /https?:|<script|<link|src=/
    );
    expect(html.match(/<svg /g)).toHaveLength(3); // rmse, accuracy, one trace
    expect(html).toContain('<polygon'); // the band of the model with an interval
    expect(html).toContain('banded&#60;x&#62;');
    expect(html).toContain('s&#38;1');
    expect(html).not.toContain('banded<x>');
  });
});
