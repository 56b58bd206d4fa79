// Confirmation → POST through the app route → the audit record or the error, in one modal.
import { css } from '@emotion/css';
import { useState } from 'react';
import { GrafanaTheme2 } from '@grafana/data';
import { Alert, Button, Modal, useStyles2 } from '@grafana/ui';

import { AuditRecord, Recommendation, decodeError } from '../contract';

interface Props {
  recommendation: Recommendation;
  apply: (id: string) => Promise<AuditRecord>;
  formatTime: (ms: number) => string;
  onApplied: (record: AuditRecord) => void;
  onClose: () => void;
}

type Step =
  | { kind: 'confirm' }
  | { kind: 'applying' }
  | { kind: 'done'; record: AuditRecord }
  | { kind: 'failed'; message: string; code?: string; status?: number };

export function ApplyModal({ recommendation: rec, apply, formatTime, onApplied, onClose }: Props) {
  const styles = useStyles2(getStyles);
  const [step, setStep] = useState<Step>({ kind: 'confirm' });
  const delta = rec.recommendedReplicas - rec.currentReplicas;

  const confirm = async () => {
    setStep({ kind: 'applying' });
    try {
      const record = await apply(rec.id);
      setStep({ kind: 'done', record });
      onApplied(record);
    } catch (err) {
      const { message, code, status } = decodeError(err);
      setStep({ kind: 'failed', message, code, status });
    }
  };

  return (
    <Modal title="Apply replica recommendation" isOpen onDismiss={onClose}>
      {(step.kind === 'confirm' || step.kind === 'applying') && (
        <>
          <p>This will change:</p>
          <table className={styles.table} data-testid="prescaler-apply-summary">
            <tbody>
              <tr>
                <th>Target</th>
                <td>{rec.target}</td>
              </tr>
              <tr>
                <th>Replicas</th>
                <td>
                  <strong>
                    {rec.currentReplicas} → {rec.recommendedReplicas}
                  </strong>{' '}
                  ({delta > 0 ? `+${delta}` : delta})
                </td>
              </tr>
              <tr>
                <th>Reason</th>
                <td>{rec.reason}</td>
              </tr>
              <tr>
                <th>Recommendation</th>
                <td>
                  <code>{rec.id}</code>, valid until {formatTime(rec.expiresAt)}
                </td>
              </tr>
            </tbody>
          </table>
          <p className={styles.note}>
            The backend re-checks the bounds and the expiry before it scales, and records the action in its
            audit log.
          </p>
          <Modal.ButtonRow>
            <Button variant="secondary" fill="outline" onClick={onClose} disabled={step.kind === 'applying'}>
              Cancel
            </Button>
            <Button
              variant={delta < 0 ? 'destructive' : 'primary'}
              icon={step.kind === 'applying' ? 'spinner' : undefined}
              disabled={step.kind === 'applying'}
              onClick={confirm}
            >
              {step.kind === 'applying' ? 'Applying…' : `Scale to ${rec.recommendedReplicas}`}
            </Button>
          </Modal.ButtonRow>
        </>
      )}
      {step.kind === 'done' && (
        <>
          <Alert severity="success" title={step.record.dryRun ? 'Recorded (dry run)' : 'Applied'}>
            {step.record.dryRun
              ? 'No cluster is configured: the backend recorded what it would have done.'
              : `${step.record.target} scaled from ${step.record.fromReplicas} to ${step.record.toReplicas} replicas.`}
          </Alert>
          <AuditRecordTable record={step.record} formatTime={formatTime} />
          <Modal.ButtonRow>
            <Button onClick={onClose}>Close</Button>
          </Modal.ButtonRow>
        </>
      )}
      {step.kind === 'failed' && (
        <>
          <Alert severity="error" title={`Apply failed${step.status ? ` (${step.status})` : ''}`}>
            <span data-testid="prescaler-apply-error">
              {step.code ? `${step.code}: ` : ''}
              {step.message}
            </span>
          </Alert>
          <Modal.ButtonRow>
            <Button variant="secondary" fill="outline" onClick={onClose}>
              Close
            </Button>
            <Button onClick={confirm}>Retry</Button>
          </Modal.ButtonRow>
        </>
      )}
    </Modal>
  );
}

export function AuditRecordTable({
  record,
  formatTime,
}: {
  record: AuditRecord;
  formatTime: (ms: number) => string;
}) {
  const styles = useStyles2(getStyles);
  return (
    <table className={styles.table} data-testid="prescaler-audit-record">
      <tbody>
        <tr>
          <th>Audit record</th>
          <td>
            <code>{String(record.id)}</code>
          </td>
        </tr>
        <tr>
          <th>At</th>
          <td>{formatTime(record.at)}</td>
        </tr>
        <tr>
          <th>Actor</th>
          <td>{record.actor}</td>
        </tr>
        <tr>
          <th>Target</th>
          <td>{record.target}</td>
        </tr>
        <tr>
          <th>Replicas</th>
          <td>
            {record.fromReplicas} → {record.toReplicas}
          </td>
        </tr>
        <tr>
          <th>Outcome</th>
          <td>{record.outcome}</td>
        </tr>
        <tr>
          <th>Dry run</th>
          <td>{record.dryRun ? 'yes' : 'no'}</td>
        </tr>
      </tbody>
    </table>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  table: css({
    width: '100%',
    marginBottom: theme.spacing(2),
    th: {
      textAlign: 'left',
      color: theme.colors.text.secondary,
      fontWeight: theme.typography.fontWeightMedium,
      padding: theme.spacing(0.5, 2, 0.5, 0),
      verticalAlign: 'top',
      whiteSpace: 'nowrap',
    },
    td: { padding: theme.spacing(0.5, 0) },
  }),
  note: css({ color: theme.colors.text.secondary }),
});
