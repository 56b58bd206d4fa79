// Current → recommended replicas with reason and expiry, and the Apply button (disabled with its reason).
import { css } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';
import { Button, Tooltip, useStyles2 } from '@grafana/ui';

import { AuditRecordTable } from '../../shared/components/ApplyModal';
import { AuditRecord, Recommendation } from '../../shared/contract';

interface Props {
  recommendation?: Recommendation;
  /** The colour of the series the target belongs to in the chart, and that series' name. */
  color?: string;
  seriesName?: string;
  loadError?: string;
  loading: boolean;
  blockedReason?: string;
  lastRecord?: AuditRecord;
  now: number;
  formatTime: (ms: number) => string;
  onApply: () => void;
}

export function relativeMinutes(ms: number, now: number): string {
  const minutes = Math.round((ms - now) / 60_000);
  if (minutes === 0) {
    return 'now';
  }
  return minutes > 0 ? `in ${minutes} min` : `${-minutes} min ago`;
}

export function RecommendationCard(props: Props) {
  const {
    recommendation: rec,
    color,
    seriesName,
    loadError,
    loading,
    blockedReason,
    lastRecord,
    now,
    formatTime,
    onApply,
  } = props;
  const styles = useStyles2(getStyles);

  if (loadError) {
    return (
      <div className={styles.card} data-testid="prescaler-recommendation">
        <div className={styles.title}>Recommendation</div>
        <div className={styles.muted}>Unavailable: {loadError}</div>
      </div>
    );
  }
  if (!rec) {
    return (
      <div className={styles.card} data-testid="prescaler-recommendation">
        <div className={styles.title}>Recommendation</div>
        <div className={styles.muted}>{loading ? 'Loading…' : 'No recommendation for this target.'}</div>
      </div>
    );
  }
  const expires = rec.expiresAt;
  const button = (
    <Button
      size="sm"
      icon="arrow-up"
      disabled={Boolean(blockedReason)}
      onClick={onApply}
      aria-label={`Apply recommendation for ${rec.target}`}
    >
      Apply
    </Button>
  );
  return (
    <div
      className={styles.card}
      data-testid="prescaler-recommendation"
      data-target={rec.target}
      style={color ? { borderLeft: `4px solid ${color}` } : undefined}
    >
      <div className={styles.title}>
        {color && (
          <span className={styles.swatch} style={{ background: color }} data-testid="prescaler-card-color" />
        )}
        {rec.target} <span className={styles.status}>{rec.status}</span>
      </div>
      {seriesName && seriesName !== rec.target && <div className={styles.muted}>{seriesName}</div>}
      <div className={styles.replicas} data-testid="prescaler-replicas">
        {rec.currentReplicas} <span className={styles.arrow}>→</span> {rec.recommendedReplicas}
        <span className={styles.unit}> replicas</span>
      </div>
      <div className={styles.reason}>{rec.reason}</div>
      <div className={styles.muted}>
        Expires {relativeMinutes(expires, now)} ({formatTime(expires)})
      </div>
      <div className={styles.actions}>
        {blockedReason ? (
          <Tooltip content={blockedReason}>
            <span>{button}</span>
          </Tooltip>
        ) : (
          button
        )}
      </div>
      {blockedReason && (
        <div className={styles.muted} data-testid="prescaler-apply-blocked">
          {blockedReason}
        </div>
      )}
      {lastRecord && (
        <div className={styles.record}>
          <AuditRecordTable record={lastRecord} formatTime={formatTime} />
        </div>
      )}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  card: css({
    background: theme.colors.background.secondary,
    border: `1px solid ${theme.colors.border.weak}`,
    borderRadius: theme.shape.radius.default,
    padding: theme.spacing(1, 1.5),
    display: 'flex',
    flexDirection: 'column',
    gap: theme.spacing(0.5),
    overflow: 'auto',
    flexShrink: 0,
    fontSize: theme.typography.bodySmall.fontSize,
  }),
  swatch: css({
    display: 'inline-block',
    width: 10,
    height: 10,
    borderRadius: 2,
    marginRight: theme.spacing(0.75),
  }),
  title: css({ fontWeight: theme.typography.fontWeightMedium, fontSize: theme.typography.body.fontSize }),
  status: css({
    marginLeft: theme.spacing(1),
    color: theme.colors.text.secondary,
    fontWeight: theme.typography.fontWeightRegular,
    fontSize: theme.typography.bodySmall.fontSize,
  }),
  replicas: css({ fontSize: theme.typography.h3.fontSize, fontWeight: theme.typography.fontWeightMedium }),
  arrow: css({ color: theme.colors.primary.text }),
  unit: css({ fontSize: theme.typography.bodySmall.fontSize, color: theme.colors.text.secondary }),
  reason: css({ color: theme.colors.text.primary }),
  muted: css({ color: theme.colors.text.secondary }),
  actions: css({ marginTop: theme.spacing(0.5) }),
  record: css({ marginTop: theme.spacing(1) }),
});
