// Pending recommendations with their reason and expiry, each with an Apply button (disabled with its reason).
import { Badge, Button, Tooltip, useStyles2 } from '@grafana/ui';

import { Recommendation } from '../shared/contract';
import { formatReplicaChange } from './describe';
import { getTableStyles } from './styles';

interface Props {
  recommendations: Recommendation[];
  formatTime: (ms: number) => string;
  formatRelative: (ms: number) => string;
  /** Why this user may not apply it now, or undefined when Apply may be pressed. */
  blockedReason: (rec: Recommendation) => string | undefined;
  onApply: (rec: Recommendation) => void;
}

export function RecommendationsTable({
  recommendations,
  formatTime,
  formatRelative,
  blockedReason,
  onApply,
}: Props) {
  const styles = useStyles2(getTableStyles);
  if (!recommendations.length) {
    return (
      <div className={styles.empty} data-testid="prescaler-recommendations-empty">
        No pending recommendations: every target runs what its forecast needs. New advice appears here after
        the next evaluation.
      </div>
    );
  }
  return (
    <table className={styles.table} data-testid="prescaler-recommendations">
      <thead>
        <tr>
          <th>Target</th>
          <th>Replicas</th>
          <th>Reason</th>
          <th>Expires</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {recommendations.map((rec) => {
          const blocked = blockedReason(rec);
          const expires = rec.expiresAt;
          const button = (
            <Button
              size="sm"
              icon="arrow-up"
              variant={rec.recommendedReplicas < rec.currentReplicas ? 'destructive' : 'primary'}
              disabled={Boolean(blocked)}
              onClick={() => onApply(rec)}
              aria-label={`Apply recommendation for ${rec.target}`}
            >
              Apply
            </Button>
          );
          return (
            <tr key={rec.id} data-testid={`prescaler-recommendation-${rec.id}`}>
              <td>
                <div className={styles.strong}>{rec.target}</div>
                {rec.kind === 'emergency' && (
                  <Badge color="red" icon="exclamation-triangle" text="emergency" />
                )}
              </td>
              <td className={styles.number}>
                {formatReplicaChange(rec.currentReplicas, rec.recommendedReplicas)}
              </td>
              <td>{rec.reason}</td>
              <td className={styles.nowrap}>
                {formatRelative(expires)}
                <div className={styles.muted}>{formatTime(expires)}</div>
              </td>
              <td>
                {blocked ? (
                  <>
                    <Tooltip content={blocked}>
                      <span>{button}</span>
                    </Tooltip>
                    <div className={styles.muted} data-testid="prescaler-apply-blocked">
                      {blocked}
                    </div>
                  </>
                ) : (
                  button
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
