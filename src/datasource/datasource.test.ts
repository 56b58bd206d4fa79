import { lastValueFrom } from 'rxjs';
import {
  DataQueryRequest,
  DataSourceInstanceSettings,
  LoadingState,
  ScopedVars,
  dateTime,
} from '@grafana/data';
import { TemplateSrv } from '@grafana/runtime';

import { fail, mockBackendSrv, ok } from '../test-utils/backendSrv';
import { DataSource } from './datasource';
import { prescalerMeta } from './frames';
import { anomaliesResponse, forecastResponse } from './fixtures';
import { PrescalerJsonData, PrescalerQuery } from './types';

const PROXY = '/api/datasources/proxy/uid/prescaler-uid';

function settings(jsonData: PrescalerJsonData = { backendUrl: 'http://prescaler:8080' }) {
  return {
    id: 1,
    uid: 'prescaler-uid',
    type: 'prescaler-forecast-datasource',
    name: 'Prescaler',
    url: PROXY,
    access: 'proxy',
    jsonData,
    meta: {} as DataSourceInstanceSettings['meta'],
    readOnly: false,
  } as DataSourceInstanceSettings<PrescalerJsonData>;
}

/** Grafana's templateSrv in miniature: `$name` → the variable's value, through the data source's formatter. */
function fakeTemplateSrv(vars: Record<string, { value: string | string[]; multi?: boolean }>): TemplateSrv {
  return {
    getVariables: () => [],
    containsTemplate: (t?: string) => Boolean(t?.includes('$')),
    updateTimeRange: () => {},
    replace: (target?: string, scopedVars?: ScopedVars, format?: Parameters<TemplateSrv['replace']>[2]) =>
      (target ?? '').replace(/\$(\w+)/g, (m, name: string) => {
        const scoped = scopedVars?.[name]?.value;
        const v: { value: string | string[]; multi?: boolean } | undefined =
          scoped !== undefined ? { value: scoped } : vars[name];
        if (!v) {
          return m;
        }
        return typeof format === 'function' ? format(v.value, { multi: v.multi }) : String(v.value);
      }),
  };
}

const FROM = 1_704_067_200; // 2024-01-01T00:00:00Z
const TO = FROM + 86_400;

function request(targets: PrescalerQuery[], scopedVars: ScopedVars = {}): DataQueryRequest<PrescalerQuery> {
  return {
    targets,
    range: { from: dateTime(FROM * 1000), to: dateTime(TO * 1000), raw: { from: 'now-24h', to: 'now' } },
    scopedVars,
    requestId: 'r1',
    interval: '1m',
    intervalMs: 60_000,
    timezone: 'utc',
    app: 'dashboard',
    startTime: 0,
  } as DataQueryRequest<PrescalerQuery>;
}

describe('DataSource.query', () => {
  it('posts the interpolated query to /api/forecast and /api/anomalies through the proxy route', async () => {
    const fetch = mockBackendSrv((req) =>
      req.url.endsWith('/api/forecast') ? ok(forecastResponse, req) : ok(anomaliesResponse, req)
    );
    const ds = new DataSource(
      settings(),
      fakeTemplateSrv({ deployment: { value: ['web', 'api'], multi: true }, step: { value: '10m' } })
    );
    const res = await lastValueFrom(
      ds.query(
        request([
          {
            refId: 'A',
            expr: 'demo_cpu_usage{deployment=~"$deployment"}',
            step: '$step',
            horizon: '1h',
            frames: ['actual', 'forecast', 'band', 'anomalies'],
          },
        ])
      )
    );

    expect(fetch).toHaveBeenCalledTimes(2);
    expect(fetch.mock.calls[0][0]).toMatchObject({
      url: `${PROXY}/backend/api/forecast`,
      method: 'POST',
      data: {
        query: 'demo_cpu_usage{deployment=~"(web|api)"}',
        start: FROM,
        end: TO,
        step: '10m',
        horizon: '1h',
      },
    });
    expect(fetch.mock.calls[1][0]).toMatchObject({
      url: `${PROXY}/backend/api/anomalies`,
      method: 'POST',
      data: { query: 'demo_cpu_usage{deployment=~"(web|api)"}', start: FROM, end: TO, step: '10m' },
    });
    // The anomalies endpoint takes no horizon.
    expect(fetch.mock.calls[1][0].data).not.toHaveProperty('horizon');
    expect(res.state).toBe(LoadingState.Done);
    expect(res.data.map((f) => prescalerMeta(f)?.kind)).toEqual(['actual', 'forecast', 'band', 'anomalies']);
  });

  it('calls only the endpoint the chosen frames need, and omits unset step and horizon', async () => {
    const fetch = mockBackendSrv((req) => ok(anomaliesResponse, req));
    const ds = new DataSource(settings(), fakeTemplateSrv({}));
    await lastValueFrom(ds.query(request([{ refId: 'A', expr: 'x', frames: ['score'] }])));
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(fetch.mock.calls[0][0].url).toBe(`${PROXY}/backend/api/anomalies`);
    expect(fetch.mock.calls[0][0].data).toEqual({ query: 'x', start: FROM, end: TO });
  });

  it('starts the range on a multiple of the step, so every refresh asks on the same grid', async () => {
    const fetch = mockBackendSrv((req) => ok(anomaliesResponse, req));
    const ds = new DataSource(settings(), fakeTemplateSrv({}));
    const at = (from: number, step?: string) => {
      const r = request([{ refId: 'A', expr: 'x', frames: ['score'], step }]);
      r.range = { ...r.range, from: dateTime(from * 1000) };
      return lastValueFrom(ds.query(r));
    };
    await at(FROM + 1234); // the backend's default step, 600 s
    await at(FROM + 1234, '15m');
    await at(FROM + 1234, '90');
    await at(FROM + 1234, 'every now and then'); // the backend will refuse it; sent as it is
    expect(fetch.mock.calls.map((c) => [c[0].data.start, c[0].data.end])).toEqual([
      [FROM + 1200, TO],
      [FROM + 900, TO],
      [FROM + 1170, TO],
      [FROM + 1234, TO],
    ]);
  });

  it('skips hidden and empty queries without calling the backend', async () => {
    const fetch = mockBackendSrv((req) => ok(forecastResponse, req));
    const ds = new DataSource(settings(), fakeTemplateSrv({}));
    const res = await lastValueFrom(
      ds.query(
        request([
          { refId: 'A', expr: '  ' },
          { refId: 'B', expr: 'x', hide: true },
        ])
      )
    );
    expect(fetch).not.toHaveBeenCalled();
    expect(res.data).toEqual([]);
  });

  it('turns the backend error body into a per-query error and keeps the frames that worked', async () => {
    mockBackendSrv((req) =>
      req.url.endsWith('/api/forecast')
        ? fail(422, { error: { code: 'not_enough_history', message: 'need 144 points, got 12' } })
        : ok(anomaliesResponse, req)
    );
    const ds = new DataSource(settings(), fakeTemplateSrv({}));
    const res = await lastValueFrom(
      ds.query(request([{ refId: 'A', expr: 'x', frames: ['forecast', 'anomalies'] }]))
    );
    expect(res.state).toBe(LoadingState.Error);
    expect(res.errors).toEqual([
      { refId: 'A', status: 422, message: 'forecast: not_enough_history: need 144 points, got 12' },
    ]);
    expect(res.data.map((f) => prescalerMeta(f)?.kind)).toEqual(['anomalies']);
  });
});

describe('DataSource.testDatasource', () => {
  const health = {
    status: 'ok',
    source: 'demo',
    models: { forecaster: { id: 'lstm', version: '3' }, anomaly: { id: 'iforest', version: '1' } },
  };

  it('calls /api/health through the route and reports source and models', async () => {
    const fetch = mockBackendSrv((req) => ok(health, req));
    const res = await new DataSource(settings(), fakeTemplateSrv({})).testDatasource();
    expect(fetch.mock.calls[0][0]).toMatchObject({ url: `${PROXY}/backend/api/health`, method: 'GET' });
    expect(res).toEqual({
      status: 'success',
      message: 'Prescaler backend is ok: demo source, forecaster lstm v3, anomaly model iforest v1.',
    });
  });

  it('warns when the backend is degraded and names what failed', async () => {
    mockBackendSrv((req) =>
      ok(
        {
          status: 'degraded',
          source: 'demo',
          models: { forecaster: { id: 'lstm', version: '3' }, anomaly: null },
          errors: ['models/anomaly/metadata.json: file not found'],
        },
        req
      )
    );
    const res = await new DataSource(settings(), fakeTemplateSrv({})).testDatasource();
    expect(res).toEqual({
      status: 'warning',
      message:
        'Prescaler backend is degraded: demo source, forecaster lstm v3. Problems: models/anomaly/metadata.json: file not found.',
    });
  });

  it.each([
    [
      502,
      { message: 'Bad Gateway' },
      /could not reach the Prescaler backend at http:\/\/prescaler:8080 \(Bad Gateway\)/,
    ],
    [
      401,
      { error: { code: 'unauthorized', message: 'invalid token' } },
      /refused the API token \(401: invalid token\)/,
    ],
    [
      400,
      'Authentication to data source failed',
      /refused the API token \(400: Authentication to data source failed\)/,
    ],
    [404, {}, /No Prescaler API at http:\/\/prescaler:8080: \/api\/health answered 404/],
    [
      503,
      { error: { code: 'not_ready', message: 'model loading' } },
      /up but not ready yet \(model loading\)/,
    ],
  ])('explains a %i', async (status, body, expected) => {
    mockBackendSrv(() => fail(status, body));
    const res = await new DataSource(settings(), fakeTemplateSrv({})).testDatasource();
    expect(res.status).toBe('error');
    expect(res.message).toMatch(expected);
  });

  it('asks for the URL before calling anything', async () => {
    const fetch = mockBackendSrv((req) => ok(health, req));
    const res = await new DataSource(settings({}), fakeTemplateSrv({})).testDatasource();
    expect(fetch).not.toHaveBeenCalled();
    expect(res).toMatchObject({
      status: 'error',
      message: expect.stringMatching(/Set the Prescaler backend URL/),
    });
  });

  it('notices an answer that is not from a Prescaler backend', async () => {
    mockBackendSrv((req) => ok('<html>grafana</html>', req));
    const res = await new DataSource(settings(), fakeTemplateSrv({})).testDatasource();
    expect(res).toMatchObject({
      status: 'error',
      message: expect.stringMatching(/not like a Prescaler backend/),
    });
  });
});
