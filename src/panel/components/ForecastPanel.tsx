// The panel: Grafana's time series chart of actual, forecast, band and anomalies (data/chart.ts decides what),
// beside the recommendations for the shown targets with Apply.
import { css } from '@emotion/css';
import { useCallback, useMemo } from 'react';
import { GrafanaTheme2, PanelProps, dateTimeFormat } from '@grafana/data';
import { useStyles2, useTheme2 } from '@grafana/ui';

import { buildChart } from '../data/chart';
import { collectSeries } from '../data/collect';
import { ForecastPanelOptions } from '../types';
import { ForecastTimeSeries } from './ForecastTimeSeries';
import { RecommendationList } from './RecommendationList';

type Props = PanelProps<ForecastPanelOptions>;

const SIDE_WIDTH = 250;
const BOTTOM_HEIGHT = 150;
const GAP = 8;

export function ForecastPanel({
  data,
  width,
  height,
  options,
  timeZone,
  replaceVariables,
  onChangeTimeRange,
}: Props) {
  const theme = useTheme2();
  const styles = useStyles2(getStyles);
  const now = Date.now();

  const model = useMemo(
    () =>
      buildChart(data.series, {
        from: data.timeRange.from.valueOf(),
        to: data.timeRange.to.valueOf(),
        now,
        showAnomalies: options.showAnomalies,
        seriesColor: (i) =>
          theme.visualization.getColorByName(
            theme.visualization.palette[i % theme.visualization.palette.length]
          ),
        anomalyColor: theme.visualization.getColorByName('red'),
      }),
    // `now` moves every render; the chart only follows data, options and theme.
    [data.series, data.timeRange, options.showAnomalies, theme]
  );
  const listed = useMemo(() => {
    const labels = new Map(collectSeries(data.series).map((s) => [s.key, s.labelValues]));
    return model.series.map((s) => ({ name: s.name, color: s.color, labelValues: labels.get(s.key) ?? [] }));
  }, [data.series, model.series]);

  const formatTime = useCallback((ms: number) => dateTimeFormat(ms, { timeZone }), [timeZone]);

  const side = options.showRecommendation && width >= 560;
  const chartWidth = side ? width - SIDE_WIDTH - GAP : width;
  const chartHeight = options.showRecommendation && !side ? height - BOTTOM_HEIGHT - GAP : height;

  return (
    <div className={styles.root} style={{ flexDirection: side ? 'row' : 'column' }}>
      {model.empty ? (
        <div className={styles.empty} style={{ width: chartWidth, height: chartHeight }}>
          No data: the query returned no Prescaler frames.
        </div>
      ) : (
        <div data-testid="prescaler-chart" style={{ width: chartWidth, height: chartHeight }}>
          <ForecastTimeSeries
            model={model}
            options={options}
            width={chartWidth}
            height={chartHeight}
            timeZone={timeZone}
            onChangeTimeRange={onChangeTimeRange}
          />
        </div>
      )}
      {options.showRecommendation && (
        <div className={styles.side} style={side ? { width: SIDE_WIDTH } : { height: BOTTOM_HEIGHT }}>
          <RecommendationList
            target={replaceVariables(options.target ?? '')}
            series={listed}
            refreshKey={data.timeRange}
            now={now}
            formatTime={formatTime}
            direction={side ? 'column' : 'row'}
          />
        </div>
      )}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  root: css({ display: 'flex', gap: GAP, width: '100%', height: '100%' }),
  side: css({ display: 'flex', flexDirection: 'column', flexShrink: 0, minHeight: 0, minWidth: 0 }),
  empty: css({
    display: 'flex',
    alignItems: 'center',
    justifyContent: 'center',
    color: theme.colors.text.secondary,
  }),
});
