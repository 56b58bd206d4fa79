// Every configured target: the workload as read now, its latest evaluation and its bounds.
import { cx } from '@emotion/css';
import { Badge, Tooltip, useStyles2 } from '@grafana/ui';

import { Target } from '../shared/contract';
import { formatNumber } from './describe';
import { getTableStyles } from './styles';

interface Props {
  targets: Target[];
  formatTime: (ms: number) => string;
}

export function TargetsTable({ targets, formatTime }: Props) {
  const styles = useStyles2(getTableStyles);
  if (!targets.length) {
    return (
      <div className={styles.empty} data-testid="prescaler-targets-empty">
        No scaling targets are configured. Add them under <code>targets:</code> in the backend&apos;s{' '}
        <code>PRESCALER_CONFIG</code> file; only configured targets can ever be scaled.
      </div>
    );
  }
  return (
    <table className={styles.table} data-testid="prescaler-targets">
      <thead>
        <tr>
          <th>Target</th>
          <th>Replicas now</th>
          <th>Forecast (peak)</th>
          <th>Anomaly score</th>
          <th>Recommended</th>
          <th>Bounds</th>
          <th>Last evaluation</th>
        </tr>
      </thead>
      <tbody>
        {targets.map((t) => (
          <TargetRow key={t.name} target={t} formatTime={formatTime} />
        ))}
      </tbody>
    </table>
  );
}

function TargetRow({ target: t, formatTime }: { target: Target; formatTime: (ms: number) => string }) {
  const styles = useStyles2(getTableStyles);
  const ev = t.lastEvaluation;
  const current = t.state?.replicas;
  const score = ev?.anomalyScore;
  const recommended = ev?.ok ? ev.recommendedReplicas : undefined;
  const changes = recommended !== undefined && current !== undefined && recommended !== current;

  return (
    <tr data-testid={`prescaler-target-${t.name}`}>
      <td>
        <div className={styles.strong}>{t.name}</div>
        <div className={styles.muted}>
          {t.namespace}/{t.workload.kind}/{t.workload.name}
          {t.mode === 'hpa-floor' ? ' · HPA floor' : ''}
        </div>
        {t.dryRun && (
          <Badge
            color="darkgrey"
            text="dry run"
            tooltip="The actuator records what it would do and changes nothing."
          />
        )}
      </td>
      <td className={styles.number}>
        {t.state ? (
          <>
            {t.state.replicas}
            {t.state.floor && (
              <div className={styles.muted}>
                floor {t.state.floor.replicas} until {formatTime(t.state.floor.expiresAt)}
              </div>
            )}
            {t.state.hpa && (
              <div className={styles.muted}>
                HPA {t.state.hpa.minReplicas}–{t.state.hpa.maxReplicas}
              </div>
            )}
          </>
        ) : (
          <Tooltip content={t.stateError ?? 'The workload could not be read.'}>
            <span className={styles.warn}>unreadable: {t.stateError ?? 'unknown error'}</span>
          </Tooltip>
        )}
      </td>
      <td className={styles.number}>
        {formatNumber(ev?.demand)}
        {ev?.ok && ev.demand !== undefined && (
          <div className={styles.muted}>
            {t.capacityPerReplica}
            {t.unit ? ` ${t.unit}` : ''} per replica
          </div>
        )}
      </td>
      <td className={cx(styles.number, isAnomalous(score, ev?.anomalyThreshold) && styles.warn)}>
        {formatNumber(score)}
      </td>
      <td className={cx(styles.number, changes && styles.change)}>
        {recommended ?? '—'}
        {t.pending.length > 0 && <div className={styles.muted}>{t.pending.length} pending</div>}
      </td>
      <td className={styles.number}>
        {t.minReplicas}–{t.maxReplicas}
        <div className={styles.muted}>at {Math.round(t.targetUtilization * 100)} %</div>
      </td>
      <td>
        {!ev ? (
          <span className={styles.muted}>Not evaluated yet.</span>
        ) : ev.ok ? (
          <>
            <div>{ev.reason}</div>
            <div className={styles.muted}>{formatTime(ev.at)}</div>
          </>
        ) : (
          <>
            <div className={styles.warn}>
              Failed{ev.error ? `: ${ev.error.reason}: ${ev.error.message}` : ''}
            </div>
            <div className={styles.muted}>{formatTime(ev.at)}</div>
          </>
        )}
      </td>
    </tr>
  );
}

/**
 * A score at or above the detector's threshold (the evaluation carries it): what the panel marks and the
 * alert rule PrescalerAnomalyScoreHigh fires on, one number.
 */
export function isAnomalous(score: number | null | undefined, threshold: number | undefined): boolean {
  return typeof score === 'number' && typeof threshold === 'number' && score >= threshold;
}
