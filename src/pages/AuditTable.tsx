// The latest audit records: who changed what, from → to, and how it ended.
import { Badge, BadgeColor, useStyles2 } from '@grafana/ui';

import { AuditRecord } from '../shared/contract';
import { getTableStyles } from './styles';

interface Props {
  records: AuditRecord[];
  formatTime: (ms: number) => string;
}

const OUTCOME_COLOR: Record<string, BadgeColor> = { applied: 'green', failed: 'red', unknown: 'orange' };

export function AuditTable({ records, formatTime }: Props) {
  const styles = useStyles2(getTableStyles);
  if (!records.length) {
    return (
      <div className={styles.empty} data-testid="prescaler-audit-empty">
        No actions recorded yet: every Apply, and every HPA floor that runs out, is written here.
      </div>
    );
  }
  return (
    <table className={styles.table} data-testid="prescaler-audit">
      <thead>
        <tr>
          <th>When</th>
          <th>Actor</th>
          <th>Target</th>
          <th>Replicas</th>
          <th>Outcome</th>
          <th>Dry run</th>
          <th>Detail</th>
        </tr>
      </thead>
      <tbody>
        {records.map((r) => (
          <tr key={String(r.id)} data-testid={`prescaler-audit-${r.id}`}>
            <td className={styles.nowrap}>{formatTime(r.at)}</td>
            <td>{r.actor}</td>
            <td>
              {r.target}
              {r.action && r.action !== 'apply' && <div className={styles.muted}>{r.action}</div>}
            </td>
            <td className={styles.number}>
              {r.fromReplicas} → {r.toReplicas}
            </td>
            <td>
              <Badge color={OUTCOME_COLOR[r.outcome] ?? 'darkgrey'} text={r.outcome} />
              {r.reconciled && <div className={styles.muted}>settled on reconciliation</div>}
            </td>
            <td>{r.dryRun ? 'yes' : 'no'}</td>
            <td className={styles.muted}>{r.detail ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
