import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { AppPluginMeta, AppRootProps, PluginType } from '@grafana/data';
import { BackendSrvRequest, config } from '@grafana/runtime';
import { Observable } from 'rxjs';

import { plugin } from '../module';
import app from '../plugin.json';
import { AuditRecord, Recommendation, Target } from '../shared/contract';
import { fail, mockBackendSrv, ok } from '../test-utils/backendSrv';
import { AppJsonData } from '../types';
import { apiEmergency, appliedRecord, olderRecord, targets, webRecommendation, webWhatif } from './fixtures';
import { RootPage } from './RootPage';

const BASE = 'api/plugin-proxy/prescaler-autoscaling-app';
const TARGETS_URL = `${BASE}/api/targets`;
const RECOMMENDATIONS_URL = `${BASE}/api/recommendations?status=pending`;
const AUDIT_URL = `${BASE}/api/audit?limit=20`;
const APPLY_URL = `${BASE}/api/recommendations/${webRecommendation.id}/apply`;
const WHATIF_URL = `${BASE}/api/whatif`;

function props(meta: Partial<AppPluginMeta<AppJsonData>> = {}): AppRootProps<AppJsonData> {
  return {
    meta: {
      id: 'prescaler-autoscaling-app',
      name: 'Prescaler',
      type: PluginType.app,
      module: '',
      baseUrl: '',
      info: {} as AppPluginMeta['info'],
      enabled: true,
      jsonData: { backendUrl: 'http://prescaler:8080' },
      secureJsonFields: { token: true },
      ...meta,
    },
    basename: '/a/prescaler-autoscaling-app',
    path: '/a/prescaler-autoscaling-app',
    query: {},
    onNavChanged: jest.fn(),
  };
}

function setRole(orgRole: string) {
  config.bootData.user = {
    ...config.bootData.user,
    orgRole,
    isGrafanaAdmin: false,
  } as typeof config.bootData.user;
}

interface Answers {
  targets?: Target[];
  recommendations?: Recommendation[];
  records?: AuditRecord[];
}

/** The what-if of a target: web's as the demo backend answered it, the others 422 (too little history). */
function whatif(req: BackendSrvRequest) {
  const { target } = req.data as { target: string };
  return target === 'web'
    ? ok(webWhatif, req)
    : fail(422, {
        error: {
          code: 'insufficient_history',
          message: `the target's history in the range spans 6.0 h; the comparison at equal violations needs at least 24 h`,
        },
      });
}

/** Answers the three GETs and the what-if POSTs by exact URL; anything else is a test failure. */
function backend(answers: () => Answers, apply?: (req: BackendSrvRequest) => Observable<unknown>): jest.Mock {
  return mockBackendSrv((req) => {
    const a = answers();
    if (req.method === 'POST' && req.url === WHATIF_URL) {
      return whatif(req);
    }
    if (req.method === 'GET' && req.url === TARGETS_URL) {
      return ok({ targets: a.targets ?? [] }, req);
    }
    if (req.method === 'GET' && req.url === RECOMMENDATIONS_URL) {
      return ok({ recommendations: a.recommendations ?? [] }, req);
    }
    if (req.method === 'GET' && req.url === AUDIT_URL) {
      return ok({ records: a.records ?? [] }, req);
    }
    if (req.method === 'POST' && apply) {
      return apply(req) as ReturnType<typeof ok>;
    }
    throw new Error(`unexpected request ${req.method} ${req.url}`);
  });
}

/** POSTs other than the what-if replays (which are reads). */
const applyPosts = (fetch: jest.Mock) =>
  fetch.mock.calls.filter((c) => c[0].method === 'POST' && c[0].url !== WHATIF_URL);

const full = (): Answers => ({
  targets,
  recommendations: [webRecommendation, apiEmergency],
  records: [olderRecord],
});

describe('RootPage', () => {
  beforeEach(() => setRole('Editor'));

  it('shows every target, the pending recommendations and the audit log as the backend reports them', async () => {
    const fetch = backend(full);
    render(<RootPage {...props()} />);

    const web = await screen.findByTestId('prescaler-target-web');
    expect(
      fetch.mock.calls
        .filter((c) => c[0].method === 'GET')
        .map((c) => `${c[0].method} ${c[0].url}`)
        .sort()
    ).toEqual([`GET ${AUDIT_URL}`, `GET ${RECOMMENDATIONS_URL}`, `GET ${TARGETS_URL}`]);
    const cells = within(web)
      .getAllByRole('cell')
      .map((c) => c.textContent);
    expect(cells[0]).toBe('webshop/Deployment/webdry run');
    expect(cells[1]).toBe('1');
    expect(cells[2]).toBe('1.590.5 cores per replica');
    expect(cells[3]).toBe('0.33');
    expect(cells[4]).toBe('51 pending');
    expect(cells[5]).toBe('1–20at 70 %');
    expect(cells[6]).toContain('p90 forecast 1.6 in 10 min → 5 replicas at 70 %; now 1');

    const api = screen.getByTestId('prescaler-target-api');
    expect(api).toHaveTextContent('shop/HorizontalPodAutoscaler/api · HPA floor');
    expect(api).toHaveTextContent('HPA 2–12');
    expect(api).toHaveTextContent('Failed: insufficient_history: need 144 points of history, have 20');
    const batch = screen.getByTestId('prescaler-target-batch');
    expect(batch).toHaveTextContent('unreadable: statefulsets.apps "batch" not found');
    expect(batch).toHaveTextContent('Not evaluated yet.');

    const rec = screen.getByTestId(`prescaler-recommendation-${webRecommendation.id}`);
    expect(rec).toHaveTextContent('1 → 5 (+4)');
    expect(rec).toHaveTextContent('p90 forecast 1.6 in 10 min → 5 replicas at 70 %; now 1');
    expect(rec).toHaveTextContent('in 14 minutes');
    const emergency = screen.getByTestId(`prescaler-recommendation-${apiEmergency.id}`);
    expect(emergency).toHaveTextContent('emergency');
    expect(emergency).toHaveTextContent('4 → 6 (+2)');
    expect(screen.getAllByRole('button', { name: /^Apply recommendation for / })).toHaveLength(2);
    expect(screen.getByRole('button', { name: 'Apply recommendation for web' })).toBeEnabled();

    const audit = screen.getByTestId('prescaler-audit-3');
    expect(audit).toHaveTextContent('token:grafana (grafana user alice)');
    expect(audit).toHaveTextContent('2 → 4');
    expect(audit).toHaveTextContent('failed');
    expect(audit).toHaveTextContent('stale: api now runs 3 replicas');
    expect(within(audit).getAllByRole('cell')[5]).toHaveTextContent(/^no$/);
    expect(screen.queryByText('No API token saved')).not.toBeInTheDocument();
  });

  it('confirms, posts through the app route, shows the record and refreshes the lists', async () => {
    let applied = false;
    const fetch = backend(
      () =>
        applied
          ? { targets, recommendations: [apiEmergency], records: [appliedRecord, olderRecord] }
          : full(),
      (req) => {
        applied = true;
        return ok(appliedRecord, req);
      }
    );
    render(<RootPage {...props()} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Apply recommendation for web' }));

    const summary = await screen.findByTestId('prescaler-apply-summary');
    expect(summary).toHaveTextContent('web');
    expect(summary).toHaveTextContent('1 → 5 (+4)');
    expect(summary).toHaveTextContent(webRecommendation.id);
    expect(applyPosts(fetch)).toHaveLength(0);

    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Scale to 5' }));
    });
    const posts = applyPosts(fetch);
    expect(posts).toHaveLength(1);
    expect(posts[0][0]).toEqual({ url: APPLY_URL, method: 'POST', data: {}, showErrorAlert: false });
    expect(await screen.findByText('Recorded (dry run)')).toBeInTheDocument();
    expect(screen.getByTestId('prescaler-audit-record')).toHaveTextContent('token:grafana');

    // The lists behind the modal were fetched again: the applied one is gone, its record is listed.
    await waitFor(() =>
      expect(screen.queryByTestId(`prescaler-recommendation-${webRecommendation.id}`)).not.toBeInTheDocument()
    );
    expect(fetch.mock.calls.filter((c) => c[0].url === RECOMMENDATIONS_URL)).toHaveLength(2);
    expect(screen.getByTestId('prescaler-audit-4')).toHaveTextContent('1 → 5');
    fireEvent.click(screen.getAllByRole('button', { name: 'Close' })[1]);
    expect(screen.queryByTestId('prescaler-apply-summary')).not.toBeInTheDocument();
  });

  it('shows the backend error in its own words when the apply is refused', async () => {
    backend(full, () =>
      fail(409, {
        error: { code: 'conflict', message: `recommendation ${webRecommendation.id} is superseded` },
        record: null,
      })
    );
    render(<RootPage {...props()} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Apply recommendation for web' }));
    await act(async () => {
      fireEvent.click(await screen.findByRole('button', { name: 'Scale to 5' }));
    });
    expect(await screen.findByTestId('prescaler-apply-error')).toHaveTextContent(
      `conflict: recommendation ${webRecommendation.id} is superseded`
    );
    expect(screen.getByText('Apply failed (409)')).toBeInTheDocument();
  });

  it('disables Apply for viewers and says why', async () => {
    setRole('Viewer');
    const fetch = backend(full);
    render(<RootPage {...props()} />);
    const buttons = await screen.findAllByRole('button', { name: /^Apply recommendation for / });
    for (const b of buttons) {
      expect(b).toBeDisabled();
    }
    expect(screen.getAllByTestId('prescaler-apply-blocked')[0]).toHaveTextContent(
      'Applying needs the Editor role in this organization; you are a Viewer.'
    );
    fireEvent.click(buttons[0]);
    expect(screen.queryByTestId('prescaler-apply-summary')).not.toBeInTheDocument();
    // Only reads: the GETs and the what-if replays.
    expect(applyPosts(fetch)).toEqual([]);
  });

  it('says in words what is empty', async () => {
    backend(() => ({}));
    render(<RootPage {...props()} />);
    expect(await screen.findByTestId('prescaler-targets-empty')).toHaveTextContent(
      'No scaling targets are configured.'
    );
    expect(screen.getByTestId('prescaler-recommendations-empty')).toHaveTextContent(
      'No pending recommendations'
    );
    expect(screen.getByTestId('prescaler-audit-empty')).toHaveTextContent('No actions recorded yet');
  });

  it('shows loading placeholders until the backend answers', async () => {
    mockBackendSrv(() => new Observable(() => {}));
    render(<RootPage {...props()} />);
    expect(screen.getByText('Loading targets…')).toBeInTheDocument();
    expect(screen.getByText('Loading recommendations…')).toBeInTheDocument();
    expect(screen.getByText('Loading the audit log…')).toBeInTheDocument();
  });

  it('says once that the backend is unreachable and points to the configuration', async () => {
    mockBackendSrv(() => fail(502, { message: 'Bad Gateway' }, 'Bad Gateway'));
    render(<RootPage {...props()} />);
    expect(await screen.findByText('Cannot load from the Prescaler backend')).toBeInTheDocument();
    expect(screen.getAllByTestId('prescaler-load-error')).toHaveLength(1);
    expect(screen.getByTestId('prescaler-load-error')).toHaveTextContent('502 Bad Gateway');
    expect(screen.getByText(/Grafana could not reach the Prescaler backend/)).toBeInTheDocument();
    expect(screen.getByRole('link', { name: /Open configuration/ })).toHaveAttribute(
      'href',
      '/plugins/prescaler-autoscaling-app?page=configuration'
    );
  });

  it("shows a section's backend error next to the sections that loaded", async () => {
    mockBackendSrv((req) =>
      req.url === AUDIT_URL
        ? fail(503, { error: { code: 'not_ready', message: 'audit store is not open' } })
        : req.url === TARGETS_URL
          ? ok({ targets }, req)
          : ok({ recommendations: [webRecommendation] }, req)
    );
    render(<RootPage {...props()} />);
    expect(await screen.findByText('Could not load the audit log')).toBeInTheDocument();
    expect(screen.getByTestId('prescaler-load-error')).toHaveTextContent(
      '503 not_ready: audit store is not open'
    );
    expect(screen.getByTestId('prescaler-target-web')).toBeInTheDocument();
    expect(screen.getByTestId(`prescaler-recommendation-${webRecommendation.id}`)).toBeInTheDocument();
  });

  it('points to the configuration page when no backend URL is set, without calling anything', () => {
    const fetch = mockBackendSrv(() => {
      throw new Error('no request expected');
    });
    render(<RootPage {...props({ jsonData: {} })} />);
    expect(screen.getByText('Prescaler is not configured yet')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: /Open configuration/ })).toHaveAttribute(
      'href',
      '/plugins/prescaler-autoscaling-app?page=configuration'
    );
    expect(fetch).not.toHaveBeenCalled();
  });

  it('warns that Apply will be refused when no token is saved', async () => {
    backend(full);
    render(<RootPage {...props({ secureJsonFields: {} })} />);
    expect(await screen.findByText('No API token saved')).toBeInTheDocument();
  });

  it('shows per target what the last 7 days would have cost, asking for one target after another', async () => {
    const fetch = backend(full);
    render(<RootPage {...props()} />);
    const web = await screen.findByTestId('prescaler-whatif-web');
    expect(await within(web).findByTestId('prescaler-whatif-sentence')).toHaveTextContent(
      'At equal violations (≤ 0.0 min on the validation slice), Prescaler would have run 229 replica-hours ' +
        'where HPA at 70 % ran 282: 19 % less (95 % interval 18–19 %); an oracle needs 209.'
    );
    expect(within(web).getByRole('img')).toHaveAttribute(
      'aria-label',
      'Replica-hours: HPA 70 % 282, Prescaler 229, Oracle 209'
    );
    // The others answered 422: said as too little history, without a Retry that cannot help.
    const api = await screen.findByTestId('prescaler-whatif-api');
    expect(await within(api).findByText('Too little history to compare')).toBeInTheDocument();
    expect(within(api).queryByRole('button', { name: /Retry/ })).not.toBeInTheDocument();
    await within(screen.getByTestId('prescaler-whatif-batch')).findByText('Too little history to compare');
    // One POST per target, through the app's whatif route, in the order the targets are listed.
    const posts = fetch.mock.calls.filter((c) => c[0].url === WHATIF_URL).map((c) => c[0]);
    expect(posts).toEqual(
      ['web', 'api', 'batch'].map((target) => ({
        url: WHATIF_URL,
        method: 'POST',
        data: { target },
        showErrorAlert: false,
      }))
    );
  });

  it('does not replay the what-ifs again on a refresh', async () => {
    const fetch = backend(full);
    render(<RootPage {...props()} />);
    await within(await screen.findByTestId('prescaler-whatif-batch')).findByText(
      'Too little history to compare'
    );
    fireEvent.click(screen.getByRole('button', { name: 'Refresh' }));
    await waitFor(() => expect(fetch.mock.calls.filter((c) => c[0].url === TARGETS_URL)).toHaveLength(2));
    expect(fetch.mock.calls.filter((c) => c[0].url === WHATIF_URL)).toHaveLength(3);
  });

  it('routes the what-if POST through a Viewer route of the app', () => {
    expect(app.routes).toContainEqual({
      path: 'api/whatif',
      method: 'POST',
      reqRole: 'Viewer',
      url: '{{ .JsonData.backendUrl }}/api/whatif',
      headers: [{ name: 'Authorization', content: 'Bearer {{ .SecureJsonData.token }}' }],
    });
  });

  it('is the app root page, listed in the navigation for viewers', () => {
    expect(plugin.root).toBe(RootPage);
    // Grafana leaves an app without a nav page out of the menu; this page is its default one.
    expect(app.includes).toContainEqual(
      expect.objectContaining({
        type: 'page',
        path: '/a/prescaler-autoscaling-app',
        role: 'Viewer',
        addToNav: true,
        defaultNav: true,
      })
    );
  });
});
