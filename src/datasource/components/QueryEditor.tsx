import { FormEvent } from 'react';
import { QueryEditorProps } from '@grafana/data';
import { Checkbox, InlineField, InlineFieldRow, Input, Stack, TextArea, UnitPicker } from '@grafana/ui';

import { DataSource } from '../datasource';
import {
  DEFAULT_QUERY,
  FRAME_KINDS,
  FRAME_KIND_LABELS,
  FrameKind,
  PrescalerJsonData,
  PrescalerQuery,
} from '../types';

type Props = QueryEditorProps<DataSource, PrescalerQuery, PrescalerJsonData>;

export function QueryEditor({ query, onChange, onRunQuery }: Props) {
  const frames = query.frames ?? (DEFAULT_QUERY.frames as FrameKind[]);

  const update = (patch: Partial<PrescalerQuery>, run = false) => {
    onChange({ ...query, ...patch });
    if (run) {
      onRunQuery();
    }
  };

  const onText =
    (key: 'expr' | 'step' | 'horizon' | 'legendFormat') =>
    (e: FormEvent<HTMLInputElement | HTMLTextAreaElement>) =>
      update({ [key]: e.currentTarget.value });

  const toggleFrame = (kind: FrameKind) => {
    const next = frames.includes(kind)
      ? frames.filter((k) => k !== kind)
      : FRAME_KINDS.filter((k) => k === kind || frames.includes(k));
    update({ frames: next }, true);
  };

  return (
    <Stack direction="column" gap={1}>
      <InlineField
        label="PromQL"
        labelWidth={14}
        grow
        tooltip="A query that returns one series per workload, e.g. sum by (deployment) (rate(container_cpu_usage_seconds_total[5m]))"
      >
        <TextArea
          id={`prescaler-expr-${query.refId}`}
          aria-label="PromQL"
          value={query.expr ?? ''}
          rows={2}
          placeholder='demo_cpu_usage{deployment="web"}'
          onChange={onText('expr')}
          onBlur={onRunQuery}
        />
      </InlineField>
      <InlineFieldRow>
        <InlineField
          label="Step"
          labelWidth={14}
          tooltip="Resampling step: seconds or 90s, 10m, 1h. Empty: the backend's default (10m)."
        >
          <Input
            aria-label="Step"
            value={query.step ?? ''}
            placeholder="10m"
            width={12}
            onChange={onText('step')}
            onBlur={onRunQuery}
          />
        </InlineField>
        <InlineField label="Horizon" labelWidth={10} tooltip="How far ahead to forecast.">
          <Input
            aria-label="Horizon"
            value={query.horizon ?? ''}
            placeholder="1h"
            width={12}
            onChange={onText('horizon')}
            onBlur={onRunQuery}
          />
        </InlineField>
        <InlineField
          label="Legend"
          labelWidth={10}
          tooltip="Series name; {{label}} is replaced by the label's value."
        >
          <Input
            aria-label="Legend"
            value={query.legendFormat ?? ''}
            placeholder="{{deployment}}"
            width={24}
            onChange={onText('legendFormat')}
            onBlur={onRunQuery}
          />
        </InlineField>
        <InlineField label="Unit" labelWidth={8}>
          <UnitPicker value={query.unit} onChange={(unit) => update({ unit }, true)} width={20} />
        </InlineField>
      </InlineFieldRow>
      <InlineField label="Return" labelWidth={14} tooltip="Which frames the query returns.">
        <Stack direction="row" gap={2} alignItems="center">
          {FRAME_KINDS.map((kind) => (
            <Checkbox
              key={kind}
              label={FRAME_KIND_LABELS[kind]}
              value={frames.includes(kind)}
              onChange={() => toggleFrame(kind)}
            />
          ))}
        </Stack>
      </InlineField>
    </Stack>
  );
}
