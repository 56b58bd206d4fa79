// App configuration page: backend URL, API token (secureJsonData) and a connection test through the app route.
import { ChangeEvent, useState } from 'react';
import { lastValueFrom } from 'rxjs';
import { AppPluginMeta, PluginConfigPageProps } from '@grafana/data';
import { getBackendSrv } from '@grafana/runtime';
import { Alert, Button, Field, FieldSet, Input, SecretInput, Stack } from '@grafana/ui';

import { APP_ID, APP_PROXY_BASE, HealthAnswer, decodeError } from '../shared/contract';
import { AppJsonData } from '../types';

export type AppConfigProps = PluginConfigPageProps<AppPluginMeta<AppJsonData>>;

type Status =
  { kind: 'idle' } | { kind: 'busy'; what: string } | { kind: 'success' | 'error'; message: string };

export function AppConfig({ plugin }: AppConfigProps) {
  const { enabled, pinned, jsonData, secureJsonFields } = plugin.meta;
  const [backendUrl, setBackendUrl] = useState(jsonData?.backendUrl ?? '');
  const [token, setToken] = useState('');
  const [tokenConfigured, setTokenConfigured] = useState(Boolean(secureJsonFields?.token));
  const [status, setStatus] = useState<Status>({ kind: 'idle' });

  const save = async () => {
    setStatus({ kind: 'busy', what: 'Saving' });
    try {
      await lastValueFrom(
        getBackendSrv().fetch({
          url: `/api/plugins/${APP_ID}/settings`,
          method: 'POST',
          data: {
            enabled: true,
            pinned: pinned ?? true,
            jsonData: { ...jsonData, backendUrl: backendUrl.trim() },
            // An absent secureJsonData keeps the stored secret; an empty token after Reset clears it.
            ...(token || !tokenConfigured ? { secureJsonData: { token } } : {}),
          },
        })
      );
      if (token) {
        setTokenConfigured(true);
        setToken('');
      }
      setStatus({ kind: 'success', message: 'Settings saved. Test the connection next.' });
    } catch (err) {
      setStatus({ kind: 'error', message: `Could not save settings: ${decodeError(err).message}` });
    }
  };

  const test = async () => {
    setStatus({ kind: 'busy', what: 'Testing' });
    try {
      const res = await lastValueFrom(
        getBackendSrv().fetch<HealthAnswer>({ url: `${APP_PROXY_BASE}/api/health`, showErrorAlert: false })
      );
      setStatus({
        kind: 'success',
        message: `Connected: backend is ${res.data.status}, ${res.data.source} source.`,
      });
    } catch (err) {
      const { status: code, message } = decodeError(err);
      const hint =
        code === 404
          ? 'Is the app enabled and are the settings saved? Grafana found no route or the backend has no /api/health.'
          : code === 401 || code === 403
            ? 'The backend or Grafana refused the request: check the token and your role.'
            : 'Check that the backend URL is reachable from the Grafana server.';
      setStatus({ kind: 'error', message: `Connection failed (${code ?? 'network'}: ${message}). ${hint}` });
    }
  };

  return (
    <Stack direction="column" gap={2}>
      {!enabled && (
        <Alert severity="info" title="The app is disabled">
          Saving the settings enables it.
        </Alert>
      )}
      <FieldSet label="Prescaler backend">
        <Field
          label="Backend URL"
          description="As the Grafana server reaches it, e.g. http://prescaler:8080."
          required
        >
          <Input
            id="prescaler-app-backend-url"
            value={backendUrl}
            placeholder="http://prescaler:8080"
            width={50}
            onChange={(e: ChangeEvent<HTMLInputElement>) => setBackendUrl(e.target.value)}
          />
        </Field>
        <Field
          label="API token"
          description="A token with role operator from the backend's auth.tokens. Grafana adds it server-side to the app's routes: Apply (POST, Editors and Admins only) and the app pages' reads (GET). The data source has its own, viewer, token."
        >
          <SecretInput
            id="prescaler-app-token"
            isConfigured={tokenConfigured}
            value={token}
            width={50}
            placeholder="token"
            onChange={(e: ChangeEvent<HTMLInputElement>) => setToken(e.target.value)}
            onReset={() => {
              setTokenConfigured(false);
              setToken('');
            }}
          />
        </Field>
      </FieldSet>
      <Stack direction="row" gap={1}>
        <Button onClick={save} disabled={status.kind === 'busy' || !backendUrl.trim()}>
          Save settings
        </Button>
        <Button variant="secondary" onClick={test} disabled={status.kind === 'busy'}>
          Test connection
        </Button>
      </Stack>
      {status.kind === 'busy' && <div>{status.what}…</div>}
      {(status.kind === 'success' || status.kind === 'error') && (
        <Alert severity={status.kind} title={status.kind === 'success' ? 'OK' : 'Problem'}>
          {status.message}
        </Alert>
      )}
    </Stack>
  );
}
