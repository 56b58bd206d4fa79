// Per target: what the last 7 days would have cost under HPA and under Prescaler at equal violations
// (POST /api/whatif's `comparison`, docs/definitions.md), in one sentence and a small bar chart.
import { css } from '@emotion/css';
import { useCallback, useEffect, useRef, useState } from 'react';
import { GrafanaTheme2 } from '@grafana/data';
import { Alert, Button, LoadingPlaceholder, useStyles2 } from '@grafana/ui';

import { fetchWhatif } from '../shared/api';
import { DecodedError, WhatifComparison, WhatifAnswer, decodeError } from '../shared/contract';
import { errorHint, errorText } from './describe';

type State =
  | { status: 'waiting' }
  | { status: 'loading' }
  | { status: 'done'; data: WhatifAnswer }
  | { status: 'error'; error: DecodedError };

const isNum = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

/** Replica-hours and minutes: whole numbers from 100 up, one decimal below. */
export function formatAmount(x: number | null | undefined): string {
  if (!isNum(x)) {
    return '—';
  }
  return Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1);
}

const percent = (x: number) => `${Math.round(Math.abs(x) * 100)}`;

/** Hours as the page says them: days from 36 h up ("1.5 days"), else hours ("16.8 h"). */
export function formatHours(h: number): string {
  return h >= 36 ? `${(h / 24).toFixed(1)} days` : `${h.toFixed(1)} h`;
}

const signedPercent = (x: number) => `${x < 0 ? '−' : ''}${percent(x)} %`;

/**
 * The comparison in one sentence, e.g. "At equal violations (≤ 0.0 min on the validation slice), Prescaler
 * would have run 229 replica-hours where HPA at 70 % ran 282: 19 % less (95 % interval 18–19 %); an oracle
 * needs 209." The violation bound is the one the Prescaler setting was held to: the HPA's own minutes on the
 * validation slice (the default comparison) or the budget (the tuned one).
 */
export function comparisonSentence(c: WhatifComparison): string | undefined {
  const h = c.hpa.replicaHours;
  const p = c.prescaler.replicaHours;
  if (!isNum(h) || !isNum(p) || !isNum(c.saving) || !(h > 0)) {
    return undefined;
  }
  const hpaAt = isNum(c.hpa.setting.targetUtilization)
    ? ` at ${Math.round(c.hpa.setting.targetUtilization * 100)} %`
    : '';
  const limit = isNum(c.chosenOn.violationLimit)
    ? ` (≤ ${formatAmount(c.chosenOn.violationLimit)} min on the validation slice)`
    : '';
  const [lo, hi] = c.savingCi95;
  let interval = '';
  if (isNum(lo) && isNum(hi)) {
    interval =
      lo >= 0 && c.saving >= 0
        ? ` (95 % interval ${percent(lo)}–${percent(hi)} %)`
        : ` (95 % interval of the saving: ${signedPercent(lo)} to ${signedPercent(hi)})`;
  }
  const direction = c.saving >= 0 ? 'less' : 'more';
  const oracle = isNum(c.oracle.replicaHours)
    ? `; an oracle needs ${formatAmount(c.oracle.replicaHours)}`
    : '';
  return (
    `At equal violations${limit}, Prescaler would have run ${formatAmount(p)} replica-hours where HPA${hpaAt} ` +
    `ran ${formatAmount(h)}: ${percent(c.saving)} % ${direction}${interval}${oracle}.`
  );
}

interface Props {
  /** Configured target names, in the order the Targets section lists them. */
  targets: string[];
}

/**
 * Asks for one target after another (each what-if takes the backend seconds of CPU and it runs one at a
 * time), once per set of targets: the page's 30 s refresh does not replay them again; Retry does.
 */
export function WhatifCost({ targets }: Props) {
  const styles = useStyles2(getStyles);
  const [states, setStates] = useState<Record<string, State>>({});
  const mounted = useRef(true);
  const key = targets.join('\n');

  const run = useCallback(async (names: string[]) => {
    setStates((prev) => {
      const next = { ...prev };
      for (const n of names) {
        next[n] = { status: 'waiting' };
      }
      return next;
    });
    for (const name of names) {
      if (!mounted.current) {
        return;
      }
      setStates((prev) => ({ ...prev, [name]: { status: 'loading' } }));
      let state: State;
      try {
        state = { status: 'done', data: await fetchWhatif(name) };
      } catch (e) {
        state = { status: 'error', error: decodeError(e) };
      }
      if (!mounted.current) {
        return;
      }
      setStates((prev) => ({ ...prev, [name]: state }));
    }
  }, []);

  useEffect(() => {
    mounted.current = true;
    run(key ? key.split('\n') : []);
    return () => {
      mounted.current = false;
    };
  }, [key, run]);

  if (!targets.length) {
    return (
      <div className={styles.muted} data-testid="prescaler-whatif-empty">
        No scaling targets are configured: there is nothing to replay.
      </div>
    );
  }
  return (
    <div className={styles.list}>
      {targets.map((name) => (
        <TargetCost
          key={name}
          name={name}
          state={states[name] ?? { status: 'waiting' }}
          retry={() => run([name])}
        />
      ))}
    </div>
  );
}

function TargetCost({ name, state, retry }: { name: string; state: State; retry: () => void }) {
  const styles = useStyles2(getStyles);
  return (
    <div className={styles.item} data-testid={`prescaler-whatif-${name}`}>
      <div className={styles.name}>{name}</div>
      {state.status === 'waiting' && <div className={styles.muted}>Waiting for the targets before it…</div>}
      {state.status === 'loading' && <LoadingPlaceholder text="Replaying the last 7 days…" />}
      {state.status === 'error' && <WhatifError error={state.error} retry={retry} />}
      {state.status === 'done' && <WhatifResult data={state.data} />}
    </div>
  );
}

function WhatifError({ error, retry }: { error: DecodedError; retry: () => void }) {
  const tooLittle = error.code === 'insufficient_history';
  const busy = error.status === 429;
  const title = tooLittle
    ? 'Too little history to compare'
    : busy
      ? 'The backend is busy with other what-ifs'
      : 'Could not replay the last 7 days';
  const hint = tooLittle ? '' : busy ? 'Retry in a few seconds.' : errorHint(error);
  return (
    <Alert severity={tooLittle ? 'info' : 'error'} title={title}>
      <div data-testid="prescaler-whatif-error">{tooLittle ? error.message : errorText(error)}</div>
      {hint && <div>{hint}</div>}
      {!tooLittle && (
        <Button size="sm" variant="secondary" icon="sync" onClick={retry}>
          Retry
        </Button>
      )}
    </Alert>
  );
}

function WhatifResult({ data }: { data: WhatifAnswer }) {
  const styles = useStyles2(getStyles);
  const c = data.comparison;
  const sentence = c && comparisonSentence(c.default);
  if (!c || !sentence) {
    return (
      <div className={styles.muted} data-testid="prescaler-whatif-none">
        {c
          ? 'The replay gave no figures to compare (no replica-hours on the test slice).'
          : 'The backend answered without a comparison: it is older than this app; update it.'}
      </div>
    );
  }
  const tuned = c.tuned;
  const tunedAt = tuned.hpa.setting.targetUtilization;
  return (
    <div className={styles.result}>
      <CostChart comparison={c.default} />
      <div>
        <div data-testid="prescaler-whatif-sentence">{sentence}</div>
        <div className={styles.muted} data-testid="prescaler-whatif-detail">
          Measured on the last {formatHours(c.evaluatedHours)} of the range (its test slice); the Prescaler
          setting was chosen on the {formatHours(c.validationHours)} before it. Violation minutes on the test
          slice: HPA {formatAmount(c.default.hpa.violationMinutes)}, Prescaler{' '}
          {formatAmount(c.default.prescaler.violationMinutes)}.
          {isNum(tuned.saving) && isNum(tunedAt)
            ? ` Against an HPA tuned to the ${formatAmount(c.budget.violationMinutes)} min budget (target ${Math.round(
                tunedAt * 100
              )} %): ${percent(tuned.saving)} % ${tuned.saving >= 0 ? 'less' : 'more'}.`
            : ''}
        </div>
      </div>
    </div>
  );
}

const BAR_WIDTH = 160;

/** Replica-hours of HPA, Prescaler and the oracle as horizontal bars on one scale. */
export function CostChart({ comparison: c }: { comparison: WhatifComparison }) {
  const styles = useStyles2(getStyles);
  const hpaLabel = isNum(c.hpa.setting.targetUtilization)
    ? `HPA ${Math.round(c.hpa.setting.targetUtilization * 100)} %`
    : 'HPA';
  const bars = [
    { label: hpaLabel, value: c.hpa.replicaHours, className: styles.hpa },
    { label: 'Prescaler', value: c.prescaler.replicaHours, className: styles.prescaler },
    { label: 'Oracle', value: c.oracle.replicaHours, className: styles.oracle },
  ];
  const max = Math.max(...bars.map((b) => (isNum(b.value) ? b.value : 0)));
  const row = 20;
  return (
    <svg
      width={80 + BAR_WIDTH + 60}
      height={bars.length * row}
      role="img"
      aria-label={`Replica-hours: ${bars.map((b) => `${b.label} ${formatAmount(b.value)}`).join(', ')}`}
      data-testid="prescaler-whatif-chart"
    >
      {bars.map((b, i) => {
        const w = isNum(b.value) && max > 0 ? Math.max(1, (b.value / max) * BAR_WIDTH) : 0;
        return (
          <g key={b.label} transform={`translate(0, ${i * row})`}>
            <text x={0} y={row * 0.7} className={styles.chartText}>
              {b.label}
            </text>
            <rect
              x={80}
              y={3}
              width={w}
              height={row - 6}
              className={b.className}
              data-value={b.value ?? ''}
            />
            <text x={80 + w + 4} y={row * 0.7} className={styles.chartText}>
              {formatAmount(b.value)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  list: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(2) }),
  item: css({ borderBottom: `1px solid ${theme.colors.border.weak}`, paddingBottom: theme.spacing(1.5) }),
  name: css({ fontWeight: theme.typography.fontWeightMedium, marginBottom: theme.spacing(0.5) }),
  result: css({ display: 'flex', gap: theme.spacing(2), alignItems: 'flex-start', flexWrap: 'wrap' }),
  muted: css({ color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize }),
  chartText: css({ fill: theme.colors.text.primary, fontSize: theme.typography.bodySmall.fontSize }),
  hpa: css({ fill: theme.colors.text.secondary }),
  prescaler: css({ fill: theme.colors.primary.main }),
  oracle: css({ fill: theme.colors.success.main }),
});
