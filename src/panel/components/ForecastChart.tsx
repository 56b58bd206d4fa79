// Draws a ChartDrawing as SVG in the Grafana theme; all geometry comes from data/drawing.ts.
import { css } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';
import { useStyles2, useTheme2 } from '@grafana/ui';

import { ChartDrawing } from '../data/drawing';

interface Props {
  drawing: ChartDrawing;
  formatTooltip: (t: number, v: number, score: number) => string;
}

export function ForecastChart({ drawing, formatTooltip }: Props) {
  const theme = useTheme2();
  const styles = useStyles2(getStyles);
  const { plot } = drawing;
  const anomalyColor = theme.visualization.getColorByName('red');
  const nowColor = theme.colors.text.secondary;

  return (
    <svg
      width={drawing.width}
      height={drawing.height}
      className={styles.svg}
      role="img"
      aria-label="Forecast chart"
    >
      <g className={styles.grid}>
        {drawing.yTicks.map((tick) => (
          <line key={`y${tick.pos}`} x1={plot.left} x2={plot.right} y1={tick.pos} y2={tick.pos} />
        ))}
        {drawing.xTicks.map((tick) => (
          <line key={`x${tick.pos}`} x1={tick.pos} x2={tick.pos} y1={plot.top} y2={plot.bottom} />
        ))}
      </g>
      <g className={styles.axisText}>
        {drawing.yTicks.map((tick) => (
          <text
            key={`yl${tick.pos}`}
            x={plot.left - 6}
            y={tick.pos}
            textAnchor="end"
            dominantBaseline="middle"
          >
            {tick.label}
          </text>
        ))}
        {drawing.xTicks.map((tick) => (
          <text key={`xl${tick.pos}`} x={tick.pos} y={plot.bottom + 15} textAnchor="middle">
            {tick.label}
          </text>
        ))}
      </g>
      {drawing.series.map((s, i) => {
        const color = theme.visualization.getColorByName(
          theme.visualization.palette[i % theme.visualization.palette.length]
        );
        return (
          <g key={s.key} data-series={s.name}>
            {s.band && (
              <path data-testid="prescaler-band" d={s.band} fill={color} fillOpacity={0.18} stroke="none">
                <title>{`${s.name}: forecast band`}</title>
              </path>
            )}
            {s.actual && (
              <path
                data-testid="prescaler-actual"
                d={s.actual}
                fill="none"
                stroke={color}
                strokeWidth={1.5}
              />
            )}
            {s.forecast && (
              <path
                data-testid="prescaler-forecast"
                d={s.forecast}
                fill="none"
                stroke={color}
                strokeWidth={2}
                strokeDasharray="6 4"
              />
            )}
            {s.anomalies.map((m) => (
              <circle
                key={m.t}
                data-testid="prescaler-anomaly"
                cx={m.x}
                cy={m.y}
                r={m.r}
                fill={anomalyColor}
                fillOpacity={0.85}
                stroke={theme.colors.background.primary}
                strokeWidth={1}
              >
                <title>{formatTooltip(m.t, m.v, m.score)}</title>
              </circle>
            ))}
          </g>
        );
      })}
      {drawing.nowX !== null && (
        <g data-testid="prescaler-now">
          <line
            x1={drawing.nowX}
            x2={drawing.nowX}
            y1={plot.top}
            y2={plot.bottom}
            stroke={nowColor}
            strokeDasharray="3 3"
          />
          <text x={drawing.nowX + 4} y={plot.top + 10} className={styles.nowLabel}>
            now
          </text>
        </g>
      )}
    </svg>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  svg: css({ display: 'block', overflow: 'visible' }),
  grid: css({ stroke: theme.colors.border.weak, strokeWidth: 1 }),
  axisText: css({ fill: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize }),
  nowLabel: css({ fill: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize }),
});
