// The panel: chart of actual, forecast, band and anomalies, plus the recommendation card with Apply.
import { css } from '@emotion/css';
import { useCallback, useEffect, useMemo, useState } from 'react';
import {
  GrafanaTheme2,
  PanelProps,
  dateTimeFormat,
  formattedValueToString,
  getValueFormat,
} from '@grafana/data';
import { config } from '@grafana/runtime';
import { useStyles2, useTheme2 } from '@grafana/ui';

import { applyRecommendation, fetchRecommendations } from '../../shared/api';
import { applyBlockedReason } from '../../shared/apply';
import { ApplyModal } from '../../shared/components/ApplyModal';
import { AuditRecord, Recommendation, decodeError } from '../../shared/contract';
import { collectSeries } from '../data/collect';
import { buildDrawing } from '../data/drawing';
import { pickRecommendation } from '../data/recommendation';
import { ForecastPanelOptions } from '../types';
import { ForecastChart } from './ForecastChart';
import { RecommendationCard } from './RecommendationCard';

type Props = PanelProps<ForecastPanelOptions>;

const CARD_WIDTH = 250;
const LEGEND_HEIGHT = 22;

export function ForecastPanel({ data, width, height, options, timeZone, replaceVariables }: Props) {
  const theme = useTheme2();
  const styles = useStyles2(getStyles);
  const now = Date.now();
  const series = useMemo(() => collectSeries(data.series), [data.series]);

  const [recommendations, setRecommendations] = useState<Recommendation[]>([]);
  const [loadError, setLoadError] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [applying, setApplying] = useState<Recommendation>();
  const [lastRecord, setLastRecord] = useState<AuditRecord>();

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setRecommendations(await fetchRecommendations());
      setLoadError(undefined);
    } catch (err) {
      const { status, message } = decodeError(err);
      setLoadError(status ? `${status} ${message}` : message);
    } finally {
      setLoading(false);
    }
  }, []);

  // Refetch whenever the panel's data refreshes, so the card follows the dashboard's refresh.
  useEffect(() => {
    if (options.showRecommendation) {
      load();
    }
  }, [load, options.showRecommendation, data.timeRange]);

  const formatTime = useCallback(
    (ms: number, spanMs = 0) =>
      dateTimeFormat(ms, { timeZone, format: spanMs > 86_400_000 ? 'MM/DD HH:mm' : 'HH:mm' }),
    [timeZone]
  );
  const formatFullTime = useCallback((ms: number) => dateTimeFormat(ms, { timeZone }), [timeZone]);
  const unit = series[0]?.unit;
  const formatValue = useMemo(() => {
    const format = getValueFormat(unit ?? 'short');
    return (v: number) => formattedValueToString(format(v, series[0]?.decimals));
  }, [unit, series]);

  const cardOnSide = options.showRecommendation && width >= 560;
  const chartWidth = cardOnSide ? width - CARD_WIDTH - 8 : width;
  const cardHeight = options.showRecommendation && !cardOnSide ? Math.min(150, height / 2) : 0;
  const chartHeight = height - LEGEND_HEIGHT - cardHeight;

  const drawing = useMemo(
    () =>
      buildDrawing(series, {
        width: chartWidth,
        height: chartHeight,
        from: data.timeRange.from.valueOf(),
        to: data.timeRange.to.valueOf(),
        now,
        showAnomalies: options.showAnomalies,
        formatTime,
        formatValue,
      }),
    // `now` moves every render; the drawing only needs to follow data and size.
    [series, chartWidth, chartHeight, data.timeRange, options.showAnomalies, formatTime, formatValue]
  );

  const labelValues = useMemo(() => series.flatMap((s) => s.labelValues), [series]);
  const recommendation = pickRecommendation(recommendations, {
    target: replaceVariables(options.target ?? ''),
    labelValues,
    now,
  });
  const user = config.bootData?.user;
  const blockedReason = recommendation
    ? applyBlockedReason(recommendation, {
        role: user?.orgRole,
        isGrafanaAdmin: user?.isGrafanaAdmin,
        now,
        formatTime: formatFullTime,
      })
    : undefined;

  const formatTooltip = (t: number, v: number, score: number) =>
    `Anomaly at ${formatFullTime(t)}: ${formatValue(v)}, score ${score.toFixed(2)}`;

  const onApplied = (record: AuditRecord) => {
    setLastRecord(record);
    load();
  };

  return (
    <div className={styles.root} style={{ flexDirection: cardOnSide ? 'row' : 'column' }}>
      <div className={styles.chartArea}>
        {drawing.empty ? (
          <div className={styles.empty} style={{ width: chartWidth, height: chartHeight }}>
            No data: the query returned no Prescaler frames.
          </div>
        ) : (
          <ForecastChart drawing={drawing} formatTooltip={formatTooltip} />
        )}
        <div className={styles.legend}>
          {series.map((s, i) => (
            <span key={s.key} className={styles.legendItem}>
              <span
                className={styles.swatch}
                style={{
                  background: theme.visualization.getColorByName(
                    theme.visualization.palette[i % theme.visualization.palette.length]
                  ),
                }}
              />
              {s.name}
              {s.model ? <span className={styles.muted}> · forecast {s.model}</span> : null}
            </span>
          ))}
          {options.showAnomalies && series.some((s) => s.anomalies.length) && (
            <span className={styles.legendItem}>
              <span
                className={styles.dot}
                style={{ background: theme.visualization.getColorByName('red') }}
              />
              anomaly
            </span>
          )}
        </div>
      </div>
      {options.showRecommendation && (
        <div className={styles.card} style={cardOnSide ? { width: CARD_WIDTH } : { height: cardHeight }}>
          <RecommendationCard
            recommendation={recommendation}
            loadError={loadError}
            loading={loading}
            blockedReason={blockedReason}
            lastRecord={
              lastRecord && recommendation && lastRecord.recommendationId === recommendation.id
                ? lastRecord
                : undefined
            }
            now={now}
            formatTime={formatFullTime}
            onApply={() => setApplying(recommendation)}
          />
        </div>
      )}
      {applying && (
        <ApplyModal
          recommendation={applying}
          apply={applyRecommendation}
          formatTime={formatFullTime}
          onApplied={onApplied}
          onClose={() => setApplying(undefined)}
        />
      )}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  root: css({ display: 'flex', gap: theme.spacing(1), width: '100%', height: '100%' }),
  chartArea: css({ display: 'flex', flexDirection: 'column', minWidth: 0 }),
  card: css({ display: 'flex', flexDirection: 'column', flexShrink: 0, minHeight: 0 }),
  legend: css({
    display: 'flex',
    gap: theme.spacing(2),
    height: LEGEND_HEIGHT,
    alignItems: 'center',
    fontSize: theme.typography.bodySmall.fontSize,
    color: theme.colors.text.primary,
    overflow: 'hidden',
    whiteSpace: 'nowrap',
  }),
  legendItem: css({ display: 'inline-flex', alignItems: 'center', gap: theme.spacing(0.5) }),
  swatch: css({ width: 14, height: 3, borderRadius: 1 }),
  dot: css({ width: 8, height: 8, borderRadius: '50%' }),
  muted: css({ color: theme.colors.text.secondary }),
  empty: css({
    display: 'flex',
    alignItems: 'center',
    justifyContent: 'center',
    color: theme.colors.text.secondary,
  }),
});
