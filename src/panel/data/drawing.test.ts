import { collectSeries } from './collect';
import { bandPath, buildDrawing, linePath, niceTicks, timeTicks } from './drawing';
import { geometryFrames } from './fixtures';

const opts = {
  width: 268,
  height: 142,
  from: 0,
  to: 1000,
  now: 1000,
  showAnomalies: true,
  formatTime: (ms: number) => `t${ms}`,
  formatValue: (v: number) => `v${v}`,
};

describe('buildDrawing', () => {
  const drawing = buildDrawing(collectSeries(geometryFrames), opts);
  const [s] = drawing.series;

  it('stretches the x axis to the end of the forecast and pads the y axis 5 %', () => {
    expect(drawing.plot).toEqual({ left: 56, top: 10, right: 256, bottom: 120 });
    expect(drawing.xDomain).toEqual([0, 2000]);
    expect(drawing.yDomain).toEqual([0, 110]);
  });

  it('draws the actual line with a gap at the null', () => {
    expect(s.actual).toBe('M56,115 M156,75');
  });

  it('draws the forecast line and closes the band between upper and lower', () => {
    expect(s.forecast).toBe('M206,70L256,60');
    expect(s.band).toBe('M206,60L256,15L256,75L206,80Z');
  });

  it('puts an anomaly marker on the value, sized by score, and the now-line at now', () => {
    expect(s.anomalies).toEqual([{ x: 106, y: 90, r: 6, t: 500, v: 30, score: 1 }]);
    expect(drawing.nowX).toBe(156);
  });

  it('labels ticks with the given formatters', () => {
    expect(drawing.yTicks).toEqual([
      { pos: 120, label: 'v0' },
      { pos: 70, label: 'v50' },
      { pos: 20, label: 'v100' },
    ]);
    expect(drawing.xTicks.length).toBeGreaterThan(0);
    expect(drawing.xTicks[0].label).toMatch(/^t\d+$/);
  });

  it('hides markers when anomalies are switched off and reports empty data', () => {
    expect(
      buildDrawing(collectSeries(geometryFrames), { ...opts, showAnomalies: false }).series[0].anomalies
    ).toEqual([]);
    expect(buildDrawing([], opts).empty).toBe(true);
  });

  it('leaves out the now-line when now is outside the axis', () => {
    expect(buildDrawing(collectSeries(geometryFrames), { ...opts, now: 5000 }).nowX).toBeNull();
  });
});

describe('paths', () => {
  const id = (v: number) => v;
  it('splits a band at missing bounds into separate polygons', () => {
    expect(
      bandPath(
        [
          { t: 0, lower: 0, upper: 2 },
          { t: 1, lower: null, upper: 3 },
          { t: 2, lower: 1, upper: 4 },
          { t: 3, lower: 1, upper: 5 },
        ],
        id,
        id
      )
    ).toBe('M0,2L0,0Z M2,4L3,5L3,1L2,1Z');
  });
  it('draws nothing for no points', () => {
    expect(linePath([], id, id)).toBe('');
  });
});

describe('ticks', () => {
  it('uses 1-2-5 steps', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(3, 97, 4)).toEqual([20, 40, 60, 80]);
  });
  it('uses round time steps that fit the width', () => {
    const hour = 3_600_000;
    expect(timeTicks(0, 6 * hour, 600, 90)).toEqual([0, 1, 2, 3, 4, 5, 6].map((h) => h * hour));
    expect(timeTicks(0, 24 * hour, 400, 90)).toEqual([0, 6, 12, 18, 24].map((h) => h * hour));
  });
});
