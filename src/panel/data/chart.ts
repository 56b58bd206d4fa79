// Frames from the Prescaler data source → what @grafana/ui's TimeSeries draws (pure): every field styled by
// what it is (actual, forecast, band edge, anomaly marker, score), one colour per source series, the x range
// stretched to the end of the forecast, and the hovered values grouped per series for the tooltip.
import {
  DataFrame,
  Field,
  FieldColorModeId,
  FieldConfig,
  FieldType,
  createTheme,
  formattedValueToString,
  getDisplayProcessor,
  getFieldDisplayName,
} from '@grafana/data';
import { AxisPlacement, GraphDrawStyle, GraphFieldConfig, VisibilityMode } from '@grafana/schema';

import { prescalerMeta } from '../../datasource/frames';
import { PrescalerFrameMeta } from '../../datasource/types';
import { seriesIdOf } from './collect';

/** What a field of a Prescaler frame is. `anomalyScore` is the score beside an anomaly marker. */
export type FieldRole = 'actual' | 'forecast' | 'lower' | 'upper' | 'anomaly' | 'anomalyScore' | 'score';

export function fieldRole(meta: PrescalerFrameMeta, field: Field): FieldRole | undefined {
  if (field.type !== FieldType.number) {
    return undefined;
  }
  switch (meta.kind) {
    case 'actual':
      return field.name === 'Value' ? 'actual' : undefined;
    case 'forecast':
      return field.name === 'Forecast' ? 'forecast' : undefined;
    case 'band':
      return field.name === 'Lower' ? 'lower' : field.name === 'Upper' ? 'upper' : undefined;
    case 'anomalies':
      return field.name === 'Value' ? 'anomaly' : field.name === 'Score' ? 'anomalyScore' : undefined;
    case 'score':
      return field.name === 'Score' ? 'score' : undefined;
  }
  return undefined;
}

export interface ChartSeries {
  key: string;
  name: string;
  color: string;
  /** Hidden from the chart (the legend toggled it off): its forecast, band and markers go with it. */
  hidden: boolean;
}

export interface ChartModel {
  /** The frames to hand to TimeSeries, in the order given; frames of other data sources pass unchanged. */
  frames: DataFrame[];
  series: ChartSeries[];
  /** The x range, Unix ms: the dashboard's start to the later of its end and the forecast's last point. */
  from: number;
  to: number;
  /** The now-line, when it falls inside the x range. */
  now: number | null;
  empty: boolean;
}

export interface ChartOptions {
  from: number;
  to: number;
  now: number;
  showAnomalies: boolean;
  /** The colour of the i-th source series (Grafana's classic palette in the panel). */
  seriesColor: (index: number) => string;
  anomalyColor: string;
}

/** The field whose legend entry stands for the series: actual, else forecast, else the band's top. */
const LEADER_ORDER: FieldRole[] = ['actual', 'forecast', 'upper', 'lower', 'anomaly'];

interface Tagged {
  frameIndex: number;
  fieldIndex: number;
  role: FieldRole;
  key: string;
}

function isFixed(config: FieldConfig): boolean {
  return config.color?.mode === FieldColorModeId.Fixed && Boolean(config.color.fixedColor);
}

function hasNumbers(field: Field): boolean {
  for (const v of field.values) {
    if (typeof v === 'number' && Number.isFinite(v)) {
      return true;
    }
  }
  return false;
}

/**
 * The colour a user set (a fixed colour in the defaults or an override) wins; otherwise every field of a series
 * takes the series' palette colour, so its forecast and band read as the same workload.
 */
export function buildChart(frames: DataFrame[], opts: ChartOptions): ChartModel {
  const tagged: Tagged[] = [];
  const order: string[] = [];
  const names = new Map<string, string>();
  frames.forEach((frame, frameIndex) => {
    const meta = prescalerMeta(frame);
    if (!meta) {
      return;
    }
    const key = seriesIdOf(frame, meta);
    if (!names.has(key)) {
      names.set(key, meta.seriesName);
      order.push(key);
    }
    frame.fields.forEach((field, fieldIndex) => {
      const role = fieldRole(meta, field);
      if (role) {
        tagged.push({ frameIndex, fieldIndex, role, key });
      }
    });
  });

  const fieldOf = (t: Tagged) => frames[t.frameIndex].fields[t.fieldIndex];
  const leaders = new Map<string, Tagged>();
  for (const key of order) {
    const own = tagged.filter((t) => t.key === key);
    const leader = LEADER_ORDER.map((r) => own.find((t) => t.role === r)).find(Boolean);
    if (leader) {
      leaders.set(key, leader);
    }
  }

  const series: ChartSeries[] = order.map((key, i) => {
    const leader = leaders.get(key);
    const config = leader ? fieldOf(leader).config : {};
    const custom = (config.custom ?? {}) as GraphFieldConfig;
    return {
      key,
      name: names.get(key) ?? key,
      color: isFixed(config) ? config.color!.fixedColor! : opts.seriesColor(i),
      hidden: Boolean(custom.hideFrom?.viz),
    };
  });
  const seriesByKey = new Map(series.map((s) => [s.key, s]));

  let to = opts.to;
  let empty = true;
  const styled = frames.map((frame) =>
    prescalerMeta(frame) ? { ...frame, fields: [...frame.fields] } : frame
  );
  for (const t of tagged) {
    const field = fieldOf(t);
    const s = seriesByKey.get(t.key)!;
    const leader = leaders.get(t.key);
    const isLeader = leader?.frameIndex === t.frameIndex && leader.fieldIndex === t.fieldIndex;
    const custom: GraphFieldConfig = { ...((field.config.custom ?? {}) as GraphFieldConfig) };
    const hideFrom = { viz: false, legend: false, tooltip: false, ...custom.hideFrom };
    let color = isFixed(field.config)
      ? field.config.color
      : { mode: FieldColorModeId.Fixed, fixedColor: s.color };

    if (hasNumbers(field)) {
      if (t.role !== 'score' && t.role !== 'anomalyScore') {
        empty = false;
      }
      if (t.role === 'forecast' || t.role === 'upper' || t.role === 'lower') {
        const times = frames[t.frameIndex].fields.find((f) => f.type === FieldType.time)?.values ?? [];
        for (let i = times.length - 1; i >= 0; i--) {
          if (typeof field.values[i] === 'number') {
            to = Math.max(to, Number(times[i]));
            break;
          }
        }
      }
    }
    // The legend shows one entry per series; what hangs off it follows its visibility (legend toggles).
    if (!isLeader) {
      hideFrom.legend = true;
      hideFrom.viz = s.hidden;
    }
    hideFrom.tooltip = s.hidden;

    switch (t.role) {
      case 'forecast':
        custom.lineStyle =
          custom.lineStyle?.fill === 'dash' ? custom.lineStyle : { fill: 'dash', dash: [10, 10] };
        break;
      case 'lower':
      case 'upper': {
        custom.lineWidth = 0;
        custom.showPoints = VisibilityMode.Never;
        if (t.role === 'upper') {
          const lower = tagged.find((o) => o.key === t.key && o.role === 'lower');
          if (lower) {
            const lowerFrame = frames[lower.frameIndex];
            custom.fillBelowTo = getFieldDisplayName(fieldOf(lower), lowerFrame, frames);
            custom.fillOpacity = custom.fillOpacity || 20;
          }
        }
        break;
      }
      case 'anomaly':
        custom.drawStyle = GraphDrawStyle.Points;
        custom.showPoints = VisibilityMode.Always;
        custom.pointSize = 9;
        custom.lineWidth = 0;
        color = isFixed(field.config)
          ? field.config.color
          : { mode: FieldColorModeId.Fixed, fixedColor: opts.anomalyColor };
        hideFrom.viz = hideFrom.viz || !opts.showAnomalies;
        break;
      case 'score':
      case 'anomalyScore':
        // Read in the tooltip only: a 0…1 score has no place on the workload's axis.
        hideFrom.viz = true;
        hideFrom.legend = true;
        custom.axisPlacement = AxisPlacement.Hidden;
        break;
    }
    custom.hideFrom = hideFrom;
    styled[t.frameIndex].fields[t.fieldIndex] = { ...field, config: { ...field.config, color, custom } };
  }

  const now = opts.now >= opts.from && opts.now <= to ? opts.now : null;
  const foreign = frames.some(
    (f) => !prescalerMeta(f) && f.fields.some((x) => x.type === FieldType.number && hasNumbers(x))
  );
  return { frames: styled, series, from: opts.from, to, now, empty: empty && !foreign };
}

/** One series' values at the hovered instant, formatted with the field's own unit and decimals. */
export interface TooltipRow {
  key: string;
  name: string;
  color: string;
  actual?: string;
  forecast?: string;
  lower?: string;
  upper?: string;
  /** The anomaly score at this instant: the marker's, else the score series'. */
  score?: string;
  anomaly: boolean;
}

export interface TooltipContent {
  time: number | null;
  rows: TooltipRow[];
}

/** Whether the field has a value at or before index `i` and one at or after it. */
function within(field: Field, i: number): boolean {
  const has = (j: number) => typeof field.values[j] === 'number';
  let before = false;
  for (let j = i; j >= 0 && !before; j--) {
    before = has(j);
  }
  let after = false;
  for (let j = i; j < field.values.length && !after; j++) {
    after = has(j);
  }
  return before && after;
}

function format(field: Field, value: unknown): string {
  // Grafana sets field.display when it applies the field config; a bare frame falls back to the unit alone.
  const display = field.display ?? getDisplayProcessor({ field, theme: createTheme() });
  return formattedValueToString(display(value));
}

/**
 * What the tooltip lists for a hover: `aligned` is the frame TimeSeries drew (fields carry state.origin into
 * `model.frames`), `dataIdxs` uPlot's hovered index per aligned field (index 0: x). With `focus` (the
 * hovered field's index, in single mode) only that field's series.
 */
export function tooltipContent(
  model: ChartModel,
  aligned: DataFrame,
  dataIdxs: Array<number | null>,
  focus: number | null = null
): TooltipContent {
  const xIdx = dataIdxs[0];
  const time = xIdx === null || xIdx === undefined ? null : Number(aligned.fields[0]?.values[xIdx] ?? null);
  const byKey = new Map<string, TooltipRow>();
  let focusKey: string | undefined;
  aligned.fields.forEach((field, i) => {
    const origin = field.state?.origin;
    if (i === 0 || !origin) {
      return;
    }
    const frame = model.frames[origin.frameIndex];
    const meta = frame && prescalerMeta(frame);
    const source = frame?.fields[origin.fieldIndex];
    const role = meta && source ? fieldRole(meta, source) : undefined;
    if (!meta || !role) {
      return;
    }
    const key = seriesIdOf(frame, meta);
    if (i === focus) {
      focusKey = key;
    }
    const s = model.series.find((x) => x.key === key);
    if (!s || s.hidden) {
      return;
    }
    const idx = dataIdxs[i];
    const value = idx === null || idx === undefined ? null : field.values[idx];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return;
    }
    // uPlot points a series without a value at the hovered instant at its nearest one within a few pixels
    // (a coarser query's step): a line reads there, as in Grafana's tooltip, if the instant lies inside the line
    // (not the last actual carried into the forecast's future); a marker or a score belongs to its own instant.
    const at = aligned.fields[0].values[idx!];
    if (at !== time) {
      if (role === 'anomaly' || role === 'anomalyScore' || role === 'score' || !within(field, xIdx!)) {
        return;
      }
    }
    const row = byKey.get(key) ?? { key, name: s.name, color: s.color, anomaly: false };
    byKey.set(key, row);
    switch (role) {
      case 'actual':
      case 'forecast':
      case 'lower':
      case 'upper':
        row[role] = format(field, value);
        break;
      case 'anomaly':
        row.anomaly = true;
        break;
      case 'anomalyScore':
        row.score = format(field, value);
        break;
      case 'score':
        row.score = row.score ?? format(field, value);
        break;
    }
  });
  const order = new Map(model.series.map((s, i) => [s.key, i]));
  const rows = [...byKey.values()]
    .filter((r) => focus === null || r.key === focusKey)
    .sort((a, b) => (order.get(a.key) ?? 0) - (order.get(b.key) ?? 0));
  return { time, rows };
}
