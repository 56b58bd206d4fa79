// Wires Grafana's own time series chart to a ChartModel (data/chart.ts): TimeSeries with its PlotLegend,
// TooltipPlugin2 (hover, drag to change the dashboard time, shared cursor), EventBusPlugin, KeyboardPlugin,
// and the now-line. Nothing here decides what is drawn.
import { css } from '@emotion/css';
import { useLayoutEffect, useMemo, useRef } from 'react';
import { GrafanaTheme2, TimeRange, dateTime, dateTimeFormat } from '@grafana/data';
import { DashboardCursorSync, TooltipDisplayMode } from '@grafana/schema';
import {
  EventBusPlugin,
  KeyboardPlugin,
  TimeSeries,
  TooltipPlugin2,
  UPlotConfigBuilder,
  usePanelContext,
  useStyles2,
  useTheme2,
} from '@grafana/ui';

import { ChartModel, tooltipContent } from '../data/chart';
import { DEFAULT_OPTIONS, ForecastPanelOptions } from '../types';

// TooltipPlugin2's TooltipHoverMode is a const enum the package does not export at run time.
const HOVER_X_ONE = 0;
const HOVER_X_ALL = 1;

interface Props {
  model: ChartModel;
  options: ForecastPanelOptions;
  width: number;
  height: number;
  timeZone: string;
  onChangeTimeRange: (range: { from: number; to: number }) => void;
}

export function ForecastTimeSeries({ model, options, width, height, timeZone, onChangeTimeRange }: Props) {
  const { sync, eventBus, eventsScope } = usePanelContext();
  // Grafana fills in option defaults when it loads a panel; a panel saved before these options had none.
  const tooltip = options.tooltip ?? DEFAULT_OPTIONS.tooltip;
  const legend = options.legend ?? DEFAULT_OPTIONS.legend;
  const cursorSync = sync?.() ?? DashboardCursorSync.Off;
  const timeRange: TimeRange = useMemo(() => {
    const from = dateTime(model.from);
    const to = dateTime(model.to);
    return { from, to, raw: { from, to } };
  }, [model.from, model.to]);

  return (
    <TimeSeries
      frames={model.frames}
      timeRange={timeRange}
      timeZone={timeZone}
      width={width}
      height={height}
      legend={legend}
      options={options}
    >
      {(config, alignedFrame) => (
        <>
          <KeyboardPlugin config={config} />
          {cursorSync !== DashboardCursorSync.Off && (
            <EventBusPlugin config={config} eventBus={eventBus} frame={alignedFrame} />
          )}
          <NowLinePlugin config={config} now={model.now} />
          <TooltipPlugin2
            config={config}
            hoverMode={tooltip.mode === TooltipDisplayMode.Single ? HOVER_X_ONE : HOVER_X_ALL}
            queryZoom={onChangeTimeRange}
            clientZoom={true}
            syncMode={cursorSync}
            syncScope={eventsScope}
            maxWidth={tooltip.maxWidth}
            render={(_u, dataIdxs, seriesIdx) =>
              tooltip.mode === TooltipDisplayMode.None ? null : (
                <ForecastTooltip
                  content={tooltipContent(
                    model,
                    alignedFrame,
                    dataIdxs,
                    tooltip.mode === TooltipDisplayMode.Single ? seriesIdx : null
                  )}
                  timeZone={timeZone}
                  maxHeight={tooltip.maxHeight}
                />
              )
            }
          />
        </>
      )}
    </TimeSeries>
  );
}

/** A dashed vertical line labelled "now", drawn on uPlot's canvas after the series. */
function NowLinePlugin({ config, now }: { config: UPlotConfigBuilder; now: number | null }) {
  const theme = useTheme2();
  const nowRef = useRef(now);
  nowRef.current = now;
  useLayoutEffect(() => {
    config.addHook('draw', (u) => {
      const t = nowRef.current;
      if (t === null) {
        return;
      }
      const x = Math.round(u.valToPos(t, 'x', true));
      const { ctx } = u;
      const { top, height } = u.bbox;
      ctx.save();
      ctx.strokeStyle = theme.colors.text.secondary;
      ctx.lineWidth = window.devicePixelRatio || 1;
      ctx.setLineDash([3 * ctx.lineWidth, 3 * ctx.lineWidth]);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
      ctx.fillStyle = theme.colors.text.secondary;
      ctx.font = `${12 * (window.devicePixelRatio || 1)}px ${theme.typography.fontFamily}`;
      ctx.textBaseline = 'top';
      ctx.fillText('now', x + 4 * ctx.lineWidth, top + 2 * ctx.lineWidth);
      ctx.restore();
    });
  }, [config, theme]);
  return null;
}

interface TooltipProps {
  content: ReturnType<typeof tooltipContent>;
  timeZone: string;
  maxHeight?: number;
}

function ForecastTooltip({ content, timeZone, maxHeight }: TooltipProps) {
  const styles = useStyles2(getStyles);
  if (content.time === null) {
    return null;
  }
  return (
    <div
      className={styles.tooltip}
      data-testid="prescaler-tooltip"
      style={maxHeight ? { maxHeight } : undefined}
    >
      <div className={styles.time} data-testid="prescaler-tooltip-time">
        {dateTimeFormat(content.time, { timeZone })}
      </div>
      <table className={styles.table}>
        <thead>
          <tr>
            <th />
            <th>Actual</th>
            <th>Forecast</th>
            <th>Band</th>
            <th>Anomaly score</th>
          </tr>
        </thead>
        <tbody>
          {content.rows.map((r) => (
            <tr key={r.key} data-testid="prescaler-tooltip-row" data-series={r.name}>
              <td className={styles.name}>
                <span className={styles.swatch} style={{ background: r.color }} />
                {r.name}
              </td>
              <td data-col="actual">{r.actual ?? '–'}</td>
              <td data-col="forecast">{r.forecast ?? '–'}</td>
              <td data-col="band">
                {r.lower !== undefined && r.upper !== undefined ? `${r.lower} – ${r.upper}` : '–'}
              </td>
              <td data-col="score" className={r.anomaly ? styles.anomaly : undefined}>
                {r.score ?? '–'}
                {r.anomaly ? ' anomaly' : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  tooltip: css({
    padding: theme.spacing(1),
    overflowY: 'auto',
    maxHeight: 360,
    fontSize: theme.typography.bodySmall.fontSize,
  }),
  time: css({ fontWeight: theme.typography.fontWeightMedium, marginBottom: theme.spacing(0.5) }),
  table: css({
    borderCollapse: 'collapse',
    'th, td': { padding: theme.spacing(0.25, 1), textAlign: 'right', whiteSpace: 'nowrap' },
    th: { color: theme.colors.text.secondary, fontWeight: theme.typography.fontWeightRegular },
    'td:first-child, th:first-child': { textAlign: 'left', paddingLeft: 0 },
  }),
  name: css({ display: 'flex', alignItems: 'center', gap: theme.spacing(0.5) }),
  swatch: css({ display: 'inline-block', width: 10, height: 3, borderRadius: 1 }),
  anomaly: css({ color: theme.colors.error.text, fontWeight: theme.typography.fontWeightMedium }),
});
