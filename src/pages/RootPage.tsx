// The app's root page (/a/prescaler-autoscaling-app): targets, pending recommendations with Apply, recent audit.
import { css } from '@emotion/css';
import { ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { AppRootProps, GrafanaTheme2, dateTime, dateTimeFormat } from '@grafana/data';
import { PluginPage, config } from '@grafana/runtime';
import { Alert, Button, LinkButton, LoadingPlaceholder, Stack, useStyles2 } from '@grafana/ui';

import { applyRecommendation, fetchAudit, fetchPendingRecommendations, fetchTargets } from '../shared/api';
import { applyBlockedReason } from '../shared/apply';
import { ApplyModal } from '../shared/components/ApplyModal';
import { APP_ID, AuditRecord, DecodedError, Recommendation, Target, decodeError } from '../shared/contract';
import { AppJsonData } from '../types';
import { AuditTable } from './AuditTable';
import { errorHint, errorText } from './describe';
import { RecommendationsTable } from './RecommendationsTable';
import { TargetsTable } from './TargetsTable';
import { WhatifCost } from './WhatifCost';

export const AUDIT_LIMIT = 20;
/** As often as the backend evaluates by default (evaluation.interval 60 s), twice. */
export const REFRESH_MS = 30_000;

interface Loaded<T> {
  data?: T;
  error?: DecodedError;
}

const formatTime = (ms: number) => dateTimeFormat(ms);
const formatRelative = (ms: number) => dateTime(ms).fromNow();

export function configPageUrl(): string {
  return `${config.appSubUrl ?? ''}/plugins/${APP_ID}?page=configuration`;
}

export function RootPage({ meta }: AppRootProps<AppJsonData>) {
  const backendUrl = meta.jsonData?.backendUrl?.trim();
  return (
    <PluginPage>
      {backendUrl ? (
        <Overview tokenConfigured={Boolean(meta.secureJsonFields?.token)} />
      ) : (
        <Alert severity="info" title="Prescaler is not configured yet" data-testid="prescaler-not-configured">
          <p>
            Set the backend URL (and a token of role operator) on the app&apos;s configuration page. This page
            then shows the scaling targets, the pending recommendations with their Apply button, and the
            recent actions.
          </p>
          <LinkButton href={configPageUrl()} icon="cog" variant="primary">
            Open configuration
          </LinkButton>
        </Alert>
      )}
    </PluginPage>
  );
}

function Overview({ tokenConfigured }: { tokenConfigured: boolean }) {
  const styles = useStyles2(getStyles);
  const [targets, setTargets] = useState<Loaded<Target[]>>({});
  const [recommendations, setRecommendations] = useState<Loaded<Recommendation[]>>({});
  const [audit, setAudit] = useState<Loaded<AuditRecord[]>>({});
  const [loading, setLoading] = useState(true);
  const [updatedAt, setUpdatedAt] = useState<number>();
  const [applying, setApplying] = useState<Recommendation>();
  const mounted = useRef(true);

  const load = useCallback(async () => {
    setLoading(true);
    const [t, r, a] = await Promise.allSettled([
      fetchTargets(),
      fetchPendingRecommendations(),
      fetchAudit(AUDIT_LIMIT),
    ]);
    if (!mounted.current) {
      return;
    }
    // A failed refresh keeps what was shown before, next to the error, rather than blanking the table.
    const settle =
      <T,>(result: PromiseSettledResult<T>) =>
      (prev: Loaded<T>): Loaded<T> =>
        result.status === 'fulfilled'
          ? { data: result.value }
          : { data: prev.data, error: decodeError(result.reason) };
    setTargets(settle(t));
    setRecommendations(settle(r));
    setAudit(settle(a));
    setUpdatedAt(Date.now());
    setLoading(false);
  }, []);

  useEffect(() => {
    mounted.current = true;
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      mounted.current = false;
      clearInterval(timer);
    };
  }, [load]);

  const user = config.bootData?.user;
  const blockedReason = (rec: Recommendation) =>
    applyBlockedReason(rec, {
      role: user?.orgRole,
      isGrafanaAdmin: user?.isGrafanaAdmin,
      now: Date.now(),
      formatTime,
    });

  const errors = [targets.error, recommendations.error, audit.error];
  // One cause (backend down, app misconfigured) fails all three: say it once, at the top.
  const allFailed = errors.every(Boolean) && !targets.data && !recommendations.data && !audit.data;

  return (
    <div className={styles.page}>
      <Stack direction="row" gap={2} alignItems="center">
        <Button
          size="sm"
          variant="secondary"
          icon={loading ? 'spinner' : 'sync'}
          disabled={loading}
          onClick={load}
        >
          Refresh
        </Button>
        <span className={styles.muted}>
          {updatedAt ? `Updated ${formatTime(updatedAt)}; ` : ''}refreshes every {REFRESH_MS / 1000} s.
        </span>
      </Stack>

      {!tokenConfigured && (
        <Alert severity="warning" title="No API token saved">
          Reading works, but the backend refuses Apply without a token of role operator.{' '}
          <a className={styles.link} href={configPageUrl()}>
            Add one on the configuration page.
          </a>
        </Alert>
      )}

      {allFailed ? (
        <LoadError title="Cannot load from the Prescaler backend" error={targets.error!} />
      ) : (
        <>
          <section>
            <h3>Targets</h3>
            <Section loaded={targets} what="targets">
              {(data) => <TargetsTable targets={data} formatTime={formatTime} />}
            </Section>
          </section>
          <section>
            <h3>What the last 7 days would have cost</h3>
            {targets.data ? (
              <WhatifCost targets={targets.data.map((t) => t.name)} />
            ) : (
              !targets.error && <LoadingPlaceholder text="Waiting for the targets…" />
            )}
          </section>
          <section>
            <h3>Pending recommendations</h3>
            <Section loaded={recommendations} what="recommendations">
              {(data) => (
                <RecommendationsTable
                  recommendations={data}
                  formatTime={formatTime}
                  formatRelative={formatRelative}
                  blockedReason={blockedReason}
                  onApply={setApplying}
                />
              )}
            </Section>
          </section>
          <section>
            <h3>Recent actions</h3>
            <Section loaded={audit} what="the audit log">
              {(data) => <AuditTable records={data} formatTime={formatTime} />}
            </Section>
          </section>
        </>
      )}

      {applying && (
        <ApplyModal
          recommendation={applying}
          apply={applyRecommendation}
          formatTime={formatTime}
          onApplied={() => load()}
          onClose={() => setApplying(undefined)}
        />
      )}
    </div>
  );
}

function Section<T>({
  loaded,
  what,
  children,
}: {
  loaded: Loaded<T>;
  what: string;
  children: (data: T) => ReactNode;
}) {
  return (
    <>
      {loaded.error && <LoadError title={`Could not load ${what}`} error={loaded.error} />}
      {loaded.data !== undefined
        ? children(loaded.data)
        : !loaded.error && <LoadingPlaceholder text={`Loading ${what}…`} />}
    </>
  );
}

function LoadError({ title, error }: { title: string; error: DecodedError }) {
  const hint = errorHint(error);
  return (
    <Alert severity="error" title={title}>
      <div data-testid="prescaler-load-error">{errorText(error)}</div>
      {hint && <div>{hint}</div>}
      {(error.status === 502 || error.status === 404 || error.status === 401 || error.status === 403) && (
        <LinkButton href={configPageUrl()} icon="cog" variant="secondary" size="sm" fill="outline">
          Open configuration
        </LinkButton>
      )}
    </Alert>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  page: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(3) }),
  muted: css({ color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize }),
  link: css({ color: theme.colors.text.link, textDecoration: 'underline' }),
});
