import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { FieldConfigSource, LoadingState, PanelProps, dateTime, getDefaultTimeRange } from '@grafana/data';
import { config } from '@grafana/runtime';

import { anomalyFrames, forecastFrames } from '../../datasource/frames';
import { STEP, T0, anomaliesResponse, forecastResponse } from '../../datasource/fixtures';
import { AuditRecord, Recommendation } from '../../shared/contract';
import { fail, mockBackendSrv, ok } from '../../test-utils/backendSrv';
import { ForecastPanelOptions } from '../types';
import { ForecastPanel } from './ForecastPanel';

const recommendation: Recommendation = {
  id: 'rec-42',
  target: 'web',
  currentReplicas: 3,
  recommendedReplicas: 7,
  reason: 'forecast peak 3.1 cores in 20 min',
  expiresAt: Date.now() + 15 * 60_000,
  status: 'pending',
};

const record: AuditRecord = {
  id: 9,
  at: Date.now(),
  actor: 'grafana',
  target: 'web',
  fromReplicas: 3,
  toReplicas: 7,
  recommendationId: 'rec-42',
  outcome: 'applied',
  dryRun: true,
};

function props(options: Partial<ForecastPanelOptions> = {}): PanelProps<ForecastPanelOptions> {
  const kinds = ['actual', 'forecast', 'band', 'anomalies'] as const;
  const series = [
    ...forecastFrames(forecastResponse, { refId: 'A', kinds: [...kinds], legendFormat: '{{deployment}}' }),
    ...anomalyFrames(anomaliesResponse, { refId: 'A', kinds: [...kinds], legendFormat: '{{deployment}}' }),
  ];
  const timeRange = { ...getDefaultTimeRange(), from: dateTime(T0), to: dateTime(T0 + 4 * STEP) };
  return {
    id: 1,
    data: { series, state: LoadingState.Done, timeRange },
    timeRange,
    timeZone: 'utc',
    options: { target: '', showRecommendation: true, showAnomalies: true, ...options },
    fieldConfig: { defaults: {}, overrides: [] } as FieldConfigSource,
    width: 900,
    height: 320,
    transparent: false,
    title: 'web',
    renderCounter: 0,
    eventBus: {} as PanelProps['eventBus'],
    replaceVariables: (s: string) => s,
    onOptionsChange: jest.fn(),
    onFieldConfigChange: jest.fn(),
    onChangeTimeRange: jest.fn(),
  } as PanelProps<ForecastPanelOptions>;
}

function setRole(orgRole: string) {
  config.bootData.user = {
    ...config.bootData.user,
    orgRole,
    isGrafanaAdmin: false,
  } as typeof config.bootData.user;
}

describe('ForecastPanel', () => {
  it('draws the band, the forecast, the anomaly markers and shows the recommendation', async () => {
    setRole('Editor');
    const fetch = mockBackendSrv((req) => ok({ recommendations: [recommendation] }, req));
    const { container } = render(<ForecastPanel {...props()} />);

    expect(screen.getByTestId('prescaler-band').getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+L.*Z$/);
    expect(screen.getByTestId('prescaler-forecast')).toBeInTheDocument();
    expect(screen.getAllByTestId('prescaler-anomaly')).toHaveLength(1);
    expect(container.querySelector('[data-series="web"]')).not.toBeNull();

    await screen.findByText('forecast peak 3.1 cores in 20 min');
    expect(fetch.mock.calls[0][0]).toMatchObject({
      url: 'api/plugin-proxy/prescaler-autoscaling-app/api/recommendations',
      method: 'GET',
    });
    expect(screen.getByTestId('prescaler-replicas')).toHaveTextContent('3 → 7 replicas');
    expect(screen.getByRole('button', { name: 'Apply recommendation' })).toBeEnabled();
  });

  it('confirms, posts through the app route and shows the audit record', async () => {
    setRole('Editor');
    const fetch = mockBackendSrv((req) =>
      req.method === 'POST' ? ok(record, req) : ok({ recommendations: [recommendation] }, req)
    );
    render(<ForecastPanel {...props()} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Apply recommendation' }));

    const summary = await screen.findByTestId('prescaler-apply-summary');
    expect(summary).toHaveTextContent('web');
    expect(summary).toHaveTextContent('3 → 7 (+4)');
    expect(summary).toHaveTextContent('rec-42');
    expect(fetch.mock.calls.filter((c) => c[0].method === 'POST')).toHaveLength(0);

    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Scale to 7' }));
    });
    const posts = fetch.mock.calls.filter((c) => c[0].method === 'POST');
    expect(posts).toHaveLength(1);
    expect(posts[0][0]).toMatchObject({
      url: 'api/plugin-proxy/prescaler-autoscaling-app/api/recommendations/rec-42/apply',
      method: 'POST',
      data: {},
    });
    const table = (await screen.findAllByTestId('prescaler-audit-record'))[0];
    expect(within(table).getByText('grafana')).toBeInTheDocument();
    expect(table).toHaveTextContent('Dry runyes');
    expect(screen.getByText('Recorded (dry run)')).toBeInTheDocument();
  });

  it('shows the backend error when the apply is refused', async () => {
    setRole('Editor');
    mockBackendSrv((req) =>
      req.method === 'POST'
        ? fail(409, { error: { code: 'conflict', message: 'recommendation rec-42 is no longer pending' } })
        : ok({ recommendations: [recommendation] }, req)
    );
    render(<ForecastPanel {...props()} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Apply recommendation' }));
    await act(async () => {
      fireEvent.click(await screen.findByRole('button', { name: 'Scale to 7' }));
    });
    expect(await screen.findByTestId('prescaler-apply-error')).toHaveTextContent(
      'conflict: recommendation rec-42 is no longer pending'
    );
    expect(screen.getByText('Apply failed (409)')).toBeInTheDocument();
  });

  it('disables Apply for viewers and says why', async () => {
    setRole('Viewer');
    mockBackendSrv((req) => ok({ recommendations: [recommendation] }, req));
    render(<ForecastPanel {...props()} />);
    await waitFor(() => expect(screen.getByRole('button', { name: 'Apply recommendation' })).toBeDisabled());
    expect(screen.getByTestId('prescaler-apply-blocked')).toHaveTextContent(
      'Applying needs the Editor role in this organization; you are a Viewer.'
    );
  });

  it('says so when recommendations cannot be loaded, and still draws the chart', async () => {
    setRole('Editor');
    mockBackendSrv(() =>
      fail(404, { error: { code: 'not_found', message: 'no route for GET /api/recommendations' } })
    );
    render(<ForecastPanel {...props()} />);
    expect(
      await screen.findByText(/Unavailable: 404 no route for GET \/api\/recommendations/)
    ).toBeInTheDocument();
    expect(screen.getByTestId('prescaler-band')).toBeInTheDocument();
  });
});
