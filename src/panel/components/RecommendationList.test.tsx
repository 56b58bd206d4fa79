import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { config } from '@grafana/runtime';

import { AuditRecord, Recommendation } from '../../shared/contract';
import { fail, mockBackendSrv, ok } from '../../test-utils/backendSrv';
import { RecommendationList } from './RecommendationList';

const recommendation: Recommendation = {
  id: 'rec-42',
  target: 'web',
  kind: 'forecast',
  currentReplicas: 3,
  recommendedReplicas: 7,
  reason: 'forecast peak 3.1 cores in 20 min',
  forecast: null,
  createdAt: Date.now() - 60_000,
  expiresAt: Date.now() + 15 * 60_000,
  status: 'pending',
  statusAt: Date.now() - 60_000,
};

const record: AuditRecord = {
  id: 9,
  at: Date.now(),
  action: 'apply',
  actor: 'grafana',
  target: 'web',
  fromReplicas: 3,
  toReplicas: 7,
  recommendationId: 'rec-42',
  outcome: 'applied',
  dryRun: true,
  detail: null,
  finishedAt: Date.now(),
  reconciled: false,
};

const apiRecommendation: Recommendation = {
  ...recommendation,
  id: 'rec-43',
  target: 'api',
  currentReplicas: 2,
  recommendedReplicas: 4,
  reason: 'forecast peak 2.4 cores in 10 min',
};

const SERIES = [
  { name: 'web cpu', color: '#73BF69', labelValues: ['web', 'default'] },
  { name: 'api cpu', color: '#F2CC0C', labelValues: ['api', 'default'] },
  { name: 'web memory', color: '#8AB8FF', labelValues: ['web', 'default'] },
];

function props(over: Partial<Parameters<typeof RecommendationList>[0]> = {}) {
  return {
    target: '',
    series: SERIES,
    refreshKey: 1,
    now: Date.now(),
    formatTime: (ms: number) => new Date(ms).toISOString(),
    direction: 'column' as const,
    ...over,
  };
}

function setRole(orgRole: string) {
  config.bootData.user = {
    ...config.bootData.user,
    orgRole,
    isGrafanaAdmin: false,
  } as typeof config.bootData.user;
}

describe('RecommendationList', () => {
  it('lists one card per target of the shown series, in their order and colour, each with its Apply', async () => {
    setRole('Editor');
    const other = { ...recommendation, id: 'rec-9', target: 'search' };
    const older = { ...recommendation, id: 'rec-41', expiresAt: Date.now() - 1 };
    const fetch = mockBackendSrv((req) =>
      ok({ recommendations: [apiRecommendation, older, other, recommendation] }, req)
    );
    render(<RecommendationList {...props()} />);

    await screen.findByText('forecast peak 3.1 cores in 20 min');
    expect(fetch.mock.calls[0][0]).toMatchObject({
      url: 'api/plugin-proxy/prescaler-autoscaling-app/api/recommendations',
      method: 'GET',
    });
    // web's live one (not the expired one), then api's; search is not among the series.
    const cards = screen.getAllByTestId('prescaler-recommendation');
    expect(cards.map((c) => c.getAttribute('data-target'))).toEqual(['web', 'api']);
    expect(within(cards[0]).getByTestId('prescaler-replicas')).toHaveTextContent('3 → 7 replicas');
    expect(within(cards[1]).getByTestId('prescaler-replicas')).toHaveTextContent('2 → 4 replicas');
    expect(within(cards[0]).getByText('web cpu')).toBeInTheDocument();
    expect(within(cards[0]).getByTestId('prescaler-card-color')).toHaveStyle({ background: '#73BF69' });
    expect(within(cards[1]).getByTestId('prescaler-card-color')).toHaveStyle({ background: '#F2CC0C' });
    expect(screen.getByRole('button', { name: 'Apply recommendation for web' })).toBeEnabled();
    expect(screen.getByRole('button', { name: 'Apply recommendation for api' })).toBeEnabled();
  });

  it('shows only the target the option names', async () => {
    setRole('Editor');
    mockBackendSrv((req) => ok({ recommendations: [apiRecommendation, recommendation] }, req));
    render(<RecommendationList {...props({ target: 'api' })} />);
    await screen.findByText('forecast peak 2.4 cores in 10 min');
    expect(
      screen.getAllByTestId('prescaler-recommendation').map((c) => c.getAttribute('data-target'))
    ).toEqual(['api']);
  });

  it('confirms, posts through the app route and shows the audit record', async () => {
    setRole('Editor');
    const fetch = mockBackendSrv((req) =>
      req.method === 'POST' ? ok(record, req) : ok({ recommendations: [recommendation] }, req)
    );
    render(<RecommendationList {...props()} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Apply recommendation for web' }));

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
    render(<RecommendationList {...props()} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Apply recommendation for web' }));
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
    render(<RecommendationList {...props()} />);
    await waitFor(() =>
      expect(screen.getByRole('button', { name: 'Apply recommendation for web' })).toBeDisabled()
    );
    expect(screen.getByTestId('prescaler-apply-blocked')).toHaveTextContent(
      'Applying needs the Editor role in this organization; you are a Viewer.'
    );
  });

  it('says so when recommendations cannot be loaded', async () => {
    setRole('Editor');
    mockBackendSrv(() =>
      fail(404, { error: { code: 'not_found', message: 'no route for GET /api/recommendations' } })
    );
    render(<RecommendationList {...props()} />);
    expect(
      await screen.findByText(/Unavailable: 404 no route for GET \/api\/recommendations/)
    ).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Apply/ })).toBeNull();
  });
});
