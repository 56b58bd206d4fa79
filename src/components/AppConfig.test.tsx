import { act, fireEvent, render, screen } from '@testing-library/react';
import { AppPlugin, AppPluginMeta, PluginType } from '@grafana/data';

import { fail, mockBackendSrv, ok } from '../test-utils/backendSrv';
import { AppJsonData } from '../types';
import { AppConfig } from './AppConfig';

function plugin(meta: Partial<AppPluginMeta<AppJsonData>> = {}) {
  const p = new AppPlugin<AppJsonData>();
  p.meta = {
    id: 'prescaler-autoscaling-app',
    name: 'Prescaler',
    type: PluginType.app,
    module: '',
    baseUrl: '',
    info: {} as AppPluginMeta['info'],
    enabled: true,
    pinned: true,
    jsonData: { backendUrl: 'http://prescaler:8080' },
    secureJsonFields: {},
    ...meta,
  };
  return p;
}

describe('AppConfig', () => {
  it('saves the URL in jsonData and the token in secureJsonData', async () => {
    const fetch = mockBackendSrv((req) => ok({}, req));
    render(<AppConfig plugin={plugin()} query={{}} />);
    fireEvent.change(screen.getByPlaceholderText('token'), {
      target: { value: 'operator-token-0123456789' },
    });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    });
    expect(fetch.mock.calls[0][0]).toEqual({
      url: '/api/plugins/prescaler-autoscaling-app/settings',
      method: 'POST',
      data: {
        enabled: true,
        pinned: true,
        jsonData: { backendUrl: 'http://prescaler:8080' },
        secureJsonData: { token: 'operator-token-0123456789' },
      },
    });
    expect(await screen.findByText(/Settings saved/)).toBeInTheDocument();
  });

  it('keeps a stored token when it is not retyped', async () => {
    const fetch = mockBackendSrv((req) => ok({}, req));
    render(<AppConfig plugin={plugin({ secureJsonFields: { token: true } })} query={{}} />);
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    });
    expect(fetch.mock.calls[0][0].data).not.toHaveProperty('secureJsonData');
  });

  it('tests the connection through the app route and explains a failure', async () => {
    const fetch = mockBackendSrv(() => fail(502, { message: 'Bad Gateway' }));
    render(<AppConfig plugin={plugin()} query={{}} />);
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Test connection' }));
    });
    expect(fetch.mock.calls[0][0].url).toBe('api/plugin-proxy/prescaler-autoscaling-app/api/health');
    expect(
      await screen.findByText(
        /Connection failed \(502: Bad Gateway\)\. Check that the backend URL is reachable/
      )
    ).toBeInTheDocument();
  });

  it('reports a healthy backend', async () => {
    mockBackendSrv((req) => ok({ status: 'ok', source: 'demo', models: {} }, req));
    render(<AppConfig plugin={plugin()} query={{}} />);
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Test connection' }));
    });
    expect(await screen.findByText('Connected: backend is ok, demo source.')).toBeInTheDocument();
  });
});
