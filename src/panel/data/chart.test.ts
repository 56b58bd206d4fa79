import {
  DataFrame,
  Field,
  FieldColorModeId,
  FieldMatcherID,
  FieldType,
  createTheme,
  fieldMatchers,
  getFieldDisplayName,
  toDataFrame,
} from '@grafana/data';
import { AxisPlacement, GraphDrawStyle, GraphFieldConfig, VisibilityMode } from '@grafana/schema';
import { preparePlotFrame } from '@grafana/ui';

import { anomalyFrames, forecastFrames } from '../../datasource/frames';
import { STEP, T0, anomaliesResponse, forecastResponse } from '../../datasource/fixtures';
import { FrameKind } from '../../datasource/types';
import { ChartModel, buildChart, tooltipContent } from './chart';

const KINDS: FrameKind[] = ['actual', 'forecast', 'band', 'score', 'anomalies'];
const PALETTE = ['green', 'yellow', 'blue'];

function framesOf(refId = 'A', legendFormat = '{{deployment}}', unit?: string): DataFrame[] {
  return [
    ...forecastFrames(forecastResponse, { refId, kinds: KINDS, legendFormat, unit }),
    ...anomalyFrames(anomaliesResponse, { refId, kinds: KINDS, legendFormat, unit }),
  ];
}

const OPTS = {
  from: T0,
  to: T0 + 3 * STEP,
  now: T0 + 3 * STEP,
  showAnomalies: true,
  seriesColor: (i: number) => PALETTE[i],
  anomalyColor: 'red',
};

/** Every styled field by its display name, with the custom config TimeSeries reads. */
function byName(model: ChartModel): Record<string, Field & { config: { custom: GraphFieldConfig } }> {
  const out: Record<string, Field & { config: { custom: GraphFieldConfig } }> = {};
  for (const frame of model.frames) {
    for (const field of frame.fields) {
      if (field.type === FieldType.number) {
        out[getFieldDisplayName(field, frame, model.frames)] = field as Field & {
          config: { custom: GraphFieldConfig };
        };
      }
    }
  }
  return out;
}

/** The frame TimeSeries draws: the same join GraphNG does, fields carrying state.origin into model.frames. */
function aligned(model: ChartModel): DataFrame {
  return preparePlotFrame(model.frames, {
    x: fieldMatchers.get(FieldMatcherID.firstTimeField).get({}),
    y: fieldMatchers.get(FieldMatcherID.numeric).get({}),
  })!;
}

/** uPlot's hovered indexes when the cursor is exactly at `t`: the same index for every field. */
function hoverAt(frame: DataFrame, t: number): Array<number | null> {
  const idx = frame.fields[0].values.indexOf(t);
  expect(idx).toBeGreaterThanOrEqual(0);
  return frame.fields.map(() => idx);
}

describe('buildChart', () => {
  it('draws each kind as what it is: solid actual, dashed forecast, the band as a fill between lower and upper, red points', () => {
    const f = byName(buildChart(framesOf(), OPTS));
    expect(Object.keys(f)).toEqual(
      expect.arrayContaining([
        'web',
        'web forecast',
        'web forecast lower',
        'web forecast upper',
        'web anomaly',
      ])
    );

    expect(f['web'].config.custom.lineStyle).toBeUndefined();
    expect(f['web forecast'].config.custom.lineStyle).toEqual({ fill: 'dash', dash: [10, 10] });
    expect(f['web forecast lower'].config.custom).toMatchObject({ lineWidth: 0 });
    // TimeSeries finds the lower edge by this name and fills from the upper edge down to it.
    expect(f['web forecast upper'].config.custom).toMatchObject({
      lineWidth: 0,
      fillBelowTo: 'web forecast lower',
      fillOpacity: 20,
    });
    expect(f['web anomaly'].config.custom).toMatchObject({
      drawStyle: GraphDrawStyle.Points,
      showPoints: VisibilityMode.Always,
    });
    expect(f['web anomaly'].config.color).toEqual({ mode: FieldColorModeId.Fixed, fixedColor: 'red' });
  });

  it("gives the forecast and band the actual line's colour, and one legend entry per series", () => {
    const model = buildChart(framesOf(), OPTS);
    const f = byName(model);
    for (const name of ['web', 'web forecast', 'web forecast lower', 'web forecast upper']) {
      expect(f[name].config.color).toEqual({ mode: FieldColorModeId.Fixed, fixedColor: 'green' });
    }
    const inLegend = Object.entries(f)
      .filter(([, field]) => !field.config.custom.hideFrom?.legend)
      .map(([name]) => name);
    expect(inLegend).toEqual(['web']);
    expect(model.series).toEqual([
      { key: 'A:deployment="web",namespace="default"', name: 'web', color: 'green', hidden: false },
    ]);
  });

  it('keeps scores off the chart (tooltip only) and off the axes', () => {
    const model = buildChart(framesOf(), OPTS);
    const scores = model.frames.flatMap((fr) => fr.fields.filter((x) => x.name === 'Score'));
    expect(scores).toHaveLength(2);
    for (const s of scores) {
      expect(s.config.custom).toMatchObject({
        hideFrom: { viz: true, legend: true, tooltip: false },
        axisPlacement: AxisPlacement.Hidden,
      });
    }
  });

  it('stretches the x range to the end of the forecast and places the now-line inside it', () => {
    const model = buildChart(framesOf(), OPTS);
    expect(model.from).toBe(T0);
    expect(model.to).toBe(T0 + 5 * STEP);
    expect(model.now).toBe(T0 + 3 * STEP);
    expect(buildChart(framesOf(), { ...OPTS, now: T0 + 6 * STEP }).now).toBeNull();
    expect(model.empty).toBe(false);
  });

  it('leaves the input frames alone and passes frames of other data sources through', () => {
    const input = framesOf();
    const before = JSON.stringify(input.map((fr) => fr.fields.map((x) => x.config)));
    const foreign = toDataFrame({
      fields: [
        { name: 'Time', type: FieldType.time, values: [T0] },
        { name: 'Value', type: FieldType.number, values: [3] },
      ],
    });
    const model = buildChart([...input, foreign], OPTS);
    expect(JSON.stringify(input.map((fr) => fr.fields.map((x) => x.config)))).toBe(before);
    expect(model.frames[model.frames.length - 1]).toBe(foreign);
    expect(buildChart([foreign], OPTS).empty).toBe(false);
    expect(buildChart([], OPTS).empty).toBe(true);
  });

  it('lets a colour set in the field config (defaults or an override) win', () => {
    const frames = framesOf();
    const actual = frames[0].fields[1];
    actual.config = { ...actual.config, color: { mode: FieldColorModeId.Fixed, fixedColor: 'purple' } };
    const model = buildChart(frames, OPTS);
    expect(model.series[0].color).toBe('purple');
    expect(byName(model)['web forecast'].config.color?.fixedColor).toBe('purple');
  });

  it('units, decimals, min/max and thresholds from the field config reach the chart untouched', () => {
    const frames = framesOf(undefined, undefined, 'short');
    const thresholds = {
      mode: 'absolute',
      steps: [
        { value: -Infinity, color: 'green' },
        { value: 3, color: 'red' },
      ],
    };
    for (const fr of frames) {
      for (const fd of fr.fields) {
        fd.config = { ...fd.config, decimals: 1, min: 0, max: 5, thresholds } as Field['config'];
      }
    }
    const f = byName(buildChart(frames, OPTS));
    expect(f['web'].config).toMatchObject({ unit: 'short', decimals: 1, min: 0, max: 5, thresholds });
    expect(f['web forecast upper'].config).toMatchObject({ unit: 'short', decimals: 1, min: 0, max: 5 });
  });

  it("hides a series' forecast, band and markers with its legend entry, and anomalies with the option", () => {
    const frames = framesOf();
    const actual = frames[0].fields[1];
    // What Grafana's legend click writes as an override: the series hidden from the chart.
    actual.config = { ...actual.config, custom: { hideFrom: { viz: true, legend: false, tooltip: false } } };
    const model = buildChart(frames, OPTS);
    const f = byName(model);
    expect(model.series[0].hidden).toBe(true);
    for (const name of ['web forecast', 'web forecast lower', 'web forecast upper', 'web anomaly']) {
      expect(f[name].config.custom.hideFrom).toMatchObject({ viz: true, tooltip: true });
    }
    expect(f['web'].config.custom.hideFrom).toEqual({ viz: true, legend: false, tooltip: true });

    const noMarkers = byName(buildChart(framesOf(), { ...OPTS, showAnomalies: false }));
    expect(noMarkers['web anomaly'].config.custom.hideFrom?.viz).toBe(true);
    expect(noMarkers['web forecast'].config.custom.hideFrom?.viz).toBe(false);
  });

  it('keeps the same workload from two queries as two series, each in its own colour', () => {
    const model = buildChart(
      [...framesOf('A', '{{deployment}}'), ...framesOf('B', '{{deployment}} 5m')],
      OPTS
    );
    expect(model.series.map((s) => [s.name, s.color])).toEqual([
      ['web', 'green'],
      ['web 5m', 'yellow'],
    ]);
    expect(byName(model)['web 5m forecast upper'].config.custom.fillBelowTo).toBe('web 5m forecast lower');
  });
});

describe('tooltipContent', () => {
  it('gives time, actual and the anomaly score at an anomaly, formatted with the field config', () => {
    const model = buildChart(framesOf(), OPTS);
    const frame = aligned(model);
    const content = tooltipContent(model, frame, hoverAt(frame, T0 + STEP));
    expect(content.time).toBe(T0 + STEP);
    expect(content.rows).toEqual([
      {
        key: 'A:deployment="web",namespace="default"',
        name: 'web',
        color: 'green',
        actual: '1.20',
        // The marker's score wins over the score series' value at the same instant (both 0.92 here).
        score: '92.00%',
        anomaly: true,
      },
    ]);
  });

  it('gives forecast and band in the future, and the score series alone where no anomaly is', () => {
    const model = buildChart(framesOf(), OPTS);
    const frame = aligned(model);
    expect(tooltipContent(model, frame, hoverAt(frame, T0 + 4 * STEP)).rows).toEqual([
      expect.objectContaining({ forecast: '1.80', lower: '1.50', upper: '2.10', anomaly: false }),
    ]);
    const calm = tooltipContent(model, frame, hoverAt(frame, T0 + 3 * STEP)).rows[0];
    expect(calm).toMatchObject({ actual: '1.60', score: '20.00%', anomaly: false });
    expect(calm.forecast).toBeUndefined();
  });

  it('lists every visible series under the cursor, or only the hovered one in single mode', () => {
    const model = buildChart(
      [...framesOf('A', '{{deployment}}'), ...framesOf('B', '{{deployment}} 5m')],
      OPTS
    );
    const frame = aligned(model);
    const at = hoverAt(frame, T0);
    expect(tooltipContent(model, frame, at).rows.map((r) => [r.name, r.actual])).toEqual([
      ['web', '1'],
      ['web 5m', '1'],
    ]);
    const second = frame.fields.findIndex((fd) => getFieldDisplayName(fd, frame) === 'web 5m');
    expect(second).toBeGreaterThan(0);
    expect(tooltipContent(model, frame, at, second).rows.map((r) => r.name)).toEqual(['web 5m']);

    const hidden = framesOf('A', '{{deployment}}');
    hidden[0].fields[1].config.custom = { hideFrom: { viz: true, legend: false, tooltip: false } };
    const partly = buildChart([...hidden, ...framesOf('B', '{{deployment}} 5m')], OPTS);
    const partlyFrame = aligned(partly);
    expect(tooltipContent(partly, partlyFrame, hoverAt(partlyFrame, T0)).rows.map((r) => r.name)).toEqual([
      'web 5m',
    ]);
  });

  it("reads a line at the neighbouring instant uPlot points it at, but a marker's score only at its own", () => {
    const model = buildChart(framesOf(), OPTS);
    const frame = aligned(model);
    const idx = (name: string) => frame.fields.findIndex((fd) => getFieldDisplayName(fd, frame) === name);
    // The cursor at T0 + 2 steps, where the actual has a gap: uPlot points the actual, the anomaly and the
    // scores at T0 + 1 step, their nearest values.
    const at = hoverAt(frame, T0 + 2 * STEP);
    const before = frame.fields[0].values.indexOf(T0 + STEP);
    for (const name of ['web', 'web anomaly']) {
      at[idx(name)] = before;
    }
    frame.fields.forEach((fd, i) => {
      if (fd.name === 'Score') {
        at[i] = before;
      }
    });
    const [row] = tooltipContent(model, frame, at).rows;
    expect(row).toMatchObject({ actual: '1.20', anomaly: false });
    expect(row.score).toBeUndefined();

    // In the forecast's future uPlot points the actual at its last point: that is not the actual then.
    const ahead = hoverAt(frame, T0 + 4 * STEP);
    ahead[idx('web')] = frame.fields[0].values.indexOf(T0 + 3 * STEP);
    const [future] = tooltipContent(model, frame, ahead).rows;
    expect(future).toMatchObject({ forecast: '1.80', lower: '1.50', upper: '2.10' });
    expect(future.actual).toBeUndefined();
  });
});

// The theme is not part of the mapping: colours come in through seriesColor; this keeps the palette honest.
it('takes its palette from the caller (the panel passes the theme classic palette)', () => {
  const theme = createTheme();
  const colors = [0, 1].map((i) => theme.visualization.getColorByName(theme.visualization.palette[i]));
  const model = buildChart([...framesOf('A'), ...framesOf('B', 'x')], {
    ...OPTS,
    seriesColor: (i) => colors[i],
  });
  expect(model.series.map((s) => s.color)).toEqual(colors);
});
