import { ChangeEvent } from 'react';
import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { Field, FieldSet, Input, SecretInput } from '@grafana/ui';

import { PrescalerJsonData, PrescalerSecureJsonData } from '../types';

type Props = DataSourcePluginOptionsEditorProps<PrescalerJsonData, PrescalerSecureJsonData>;

export function ConfigEditor({ options, onOptionsChange }: Props) {
  const { jsonData, secureJsonFields, secureJsonData } = options;

  const onBackendUrlChange = (event: ChangeEvent<HTMLInputElement>) => {
    // Proxy access: the browser only ever talks to Grafana, which forwards to this URL (see plugin.json routes).
    onOptionsChange({
      ...options,
      access: 'proxy',
      jsonData: { ...jsonData, backendUrl: event.target.value.trim() },
    });
  };

  const onTokenChange = (event: ChangeEvent<HTMLInputElement>) => {
    onOptionsChange({ ...options, secureJsonData: { ...secureJsonData, token: event.target.value } });
  };

  const onResetToken = () => {
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureJsonFields, token: false },
      secureJsonData: { ...secureJsonData, token: '' },
    });
  };

  return (
    <FieldSet label="Prescaler backend">
      <Field
        label="Backend URL"
        description="Base URL of the Prescaler backend as the Grafana server reaches it. Requests go through Grafana's data proxy."
        required
      >
        <Input
          id="prescaler-backend-url"
          value={jsonData.backendUrl ?? ''}
          placeholder="http://prescaler:8080"
          onChange={onBackendUrlChange}
          width={50}
        />
      </Field>
      <Field
        label="API token"
        description="A token with role viewer from the backend's auth.tokens: every user of this data source reads with it (forecasts, anomalies, health; applying goes through the app with its own token). Stored encrypted; only the Grafana server sends it."
      >
        <SecretInput
          id="prescaler-token"
          isConfigured={Boolean(secureJsonFields?.token)}
          value={secureJsonData?.token ?? ''}
          placeholder="token"
          onChange={onTokenChange}
          onReset={onResetToken}
          width={50}
        />
      </Field>
    </FieldSet>
  );
}
