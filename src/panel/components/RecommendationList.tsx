// The recommendation area: one card per target of the shown series (or the option's target), each in its
// series' colour with its own Apply, and the confirmation modal. Refetches when the dashboard refreshes.
import { css } from '@emotion/css';
import { useCallback, useEffect, useState } from 'react';
import { GrafanaTheme2 } from '@grafana/data';
import { config } from '@grafana/runtime';
import { useStyles2 } from '@grafana/ui';

import { applyRecommendation, fetchRecommendations } from '../../shared/api';
import { applyBlockedReason } from '../../shared/apply';
import { ApplyModal } from '../../shared/components/ApplyModal';
import { AuditRecord, Recommendation, decodeError } from '../../shared/contract';
import { recommendationsByTarget } from '../data/recommendation';
import { RecommendationCard } from './RecommendationCard';

interface Props {
  target: string;
  series: Array<{ name: string; color: string; labelValues: string[] }>;
  /** Changes when the panel's data refreshes. */
  refreshKey: unknown;
  now: number;
  formatTime: (ms: number) => string;
  direction: 'column' | 'row';
}

export function RecommendationList({ target, series, refreshKey, now, formatTime, direction }: Props) {
  const styles = useStyles2(getStyles);
  const [recommendations, setRecommendations] = useState<Recommendation[]>([]);
  const [loadError, setLoadError] = useState<string>();
  const [loading, setLoading] = useState(true);
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

  useEffect(() => {
    load();
  }, [load, refreshKey]);

  const shown = recommendationsByTarget(recommendations, { target, series, now });
  const user = config.bootData?.user;

  return (
    <div className={styles.list} style={{ flexDirection: direction }} data-testid="prescaler-recommendations">
      {loadError || shown.length === 0 ? (
        <RecommendationCard
          loadError={loadError}
          loading={loading}
          now={now}
          formatTime={formatTime}
          onApply={() => {}}
        />
      ) : (
        shown.map(({ recommendation, color, seriesName }) => (
          <RecommendationCard
            key={recommendation.id}
            recommendation={recommendation}
            color={color}
            seriesName={seriesName}
            loading={loading}
            blockedReason={applyBlockedReason(recommendation, {
              role: user?.orgRole,
              isGrafanaAdmin: user?.isGrafanaAdmin,
              now,
              formatTime,
            })}
            lastRecord={lastRecord?.recommendationId === recommendation.id ? lastRecord : undefined}
            now={now}
            formatTime={formatTime}
            onApply={() => setApplying(recommendation)}
          />
        ))
      )}
      {applying && (
        <ApplyModal
          recommendation={applying}
          apply={applyRecommendation}
          formatTime={formatTime}
          onApplied={(record) => {
            setLastRecord(record);
            load();
          }}
          onClose={() => setApplying(undefined)}
        />
      )}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  list: css({
    display: 'flex',
    gap: theme.spacing(1),
    overflow: 'auto',
    minHeight: 0,
    height: '100%',
    '& > *': { minWidth: 220 },
  }),
});
