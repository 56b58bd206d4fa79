// The Prescaler data source: forecasts and anomaly scores from the backend, through Grafana's data proxy.
import {
  DataFrame,
  DataQueryError,
  DataQueryRequest,
  DataQueryResponse,
  DataSourceApi,
  DataSourceInstanceSettings,
  LoadingState,
  ScopedVars,
  TestDataSourceResponse,
} from '@grafana/data';
import {
  BackendSrvRequest,
  FetchResponse,
  getBackendSrv,
  getTemplateSrv,
  TemplateSrv,
} from '@grafana/runtime';
import { Observable, catchError, forkJoin, lastValueFrom, map, of } from 'rxjs';

import {
  AnomaliesAnswer,
  DATASOURCE_ROUTE,
  DEFAULT_STEP_SECONDS,
  ForecastAnswer,
  ForecastRequest,
  HealthAnswer,
  decodeError,
  parseDuration,
} from '../shared/contract';
import { anomalyFrames, forecastFrames } from './frames';
import { formatPromqlVariable } from './interpolate';
import { DEFAULT_QUERY, FrameKind, PrescalerJsonData, PrescalerQuery } from './types';

const FORECAST_KINDS: FrameKind[] = ['actual', 'forecast', 'band'];
const ANOMALY_KINDS: FrameKind[] = ['score', 'anomalies'];

/** Body of POST /api/forecast and /api/anomalies as the data source sends it: times in Unix seconds. */
export interface RangeBody extends ForecastRequest {
  start: number;
  end: number;
  step?: string;
  horizon?: string;
}

/** What Grafana's data proxy answers (400, plain text) when the backend refused the data source's token. */
export const DATA_PROXY_AUTH_FAILED = 'Authentication to data source failed';

export class DataSource extends DataSourceApi<PrescalerQuery, PrescalerJsonData> {
  readonly baseUrl: string;
  readonly backendUrl?: string;

  constructor(
    instanceSettings: DataSourceInstanceSettings<PrescalerJsonData>,
    private readonly templateSrv: TemplateSrv = getTemplateSrv()
  ) {
    super(instanceSettings);
    // Grafana sets `url` to /api/datasources/proxy/uid/<uid> for proxy access; the route adds the rest.
    this.baseUrl = `${instanceSettings.url ?? ''}/${DATASOURCE_ROUTE}`;
    this.backendUrl = instanceSettings.jsonData?.backendUrl;
  }

  override getDefaultQuery(): Partial<PrescalerQuery> {
    return DEFAULT_QUERY;
  }

  override filterQuery(query: PrescalerQuery): boolean {
    return !query.hide && Boolean(query.expr?.trim());
  }

  applyTemplateVariables(query: PrescalerQuery, scopedVars: ScopedVars): PrescalerQuery {
    return {
      ...query,
      expr: this.templateSrv.replace(query.expr, scopedVars, formatPromqlVariable),
      step: query.step ? this.templateSrv.replace(query.step, scopedVars) : query.step,
      horizon: query.horizon ? this.templateSrv.replace(query.horizon, scopedVars) : query.horizon,
      legendFormat: query.legendFormat,
    };
  }

  override interpolateVariablesInQueries(
    queries: PrescalerQuery[],
    scopedVars: ScopedVars
  ): PrescalerQuery[] {
    return queries.map((q) => this.applyTemplateVariables(q, scopedVars));
  }

  query(request: DataQueryRequest<PrescalerQuery>): Observable<DataQueryResponse> {
    const targets = request.targets.filter((t) => this.filterQuery(t));
    if (targets.length === 0) {
      return of({ data: [], state: LoadingState.Done });
    }
    const start = request.range.from.unix();
    const end = request.range.to.unix();
    const perTarget = targets.map((raw) => {
      const target = this.applyTemplateVariables(raw, request.scopedVars);
      return this.runTarget(target, start, end);
    });
    return forkJoin(perTarget).pipe(
      map((results) => {
        const data = results.flatMap((r) => r.data);
        const errors = results.flatMap((r) => r.errors);
        return {
          data,
          errors: errors.length ? errors : undefined,
          state: errors.length ? LoadingState.Error : LoadingState.Done,
        };
      })
    );
  }

  private runTarget(
    target: PrescalerQuery,
    start: number,
    end: number
  ): Observable<{ data: DataFrame[]; errors: DataQueryError[] }> {
    const kinds = target.frames?.length ? target.frames : (DEFAULT_QUERY.frames as FrameKind[]);
    const opts = {
      refId: target.refId,
      kinds,
      legendFormat: target.legendFormat,
      unit: target.unit,
      executedQueryString: target.expr,
    };
    // The start goes down to a multiple of the step, as Grafana's Prometheus data source does: every
    // refresh then evaluates on the same grid, and the backend's history cache can reuse what it read.
    const step = target.step ? parseDuration(target.step) : DEFAULT_STEP_SECONDS;
    const body: RangeBody = {
      query: target.expr,
      start: step && step > 0 ? Math.floor(start / step) * step : start,
      end,
    };
    if (target.step) {
      body.step = target.step;
    }
    const calls: Array<Observable<{ data: DataFrame[]; errors: DataQueryError[] }>> = [];
    if (kinds.some((k) => FORECAST_KINDS.includes(k))) {
      calls.push(
        this.post<ForecastAnswer>(
          '/api/forecast',
          target.horizon ? { ...body, horizon: target.horizon } : body
        ).pipe(
          map((res) => ({ data: forecastFrames(res.data, opts), errors: [] })),
          catchError((err) => of({ data: [], errors: [this.queryError('forecast', target.refId, err)] }))
        )
      );
    }
    if (kinds.some((k) => ANOMALY_KINDS.includes(k))) {
      calls.push(
        this.post<AnomaliesAnswer>('/api/anomalies', body).pipe(
          map((res) => ({ data: anomalyFrames(res.data, opts), errors: [] })),
          catchError((err) => of({ data: [], errors: [this.queryError('anomalies', target.refId, err)] }))
        )
      );
    }
    return forkJoin(calls).pipe(
      map((parts) => ({ data: parts.flatMap((p) => p.data), errors: parts.flatMap((p) => p.errors) }))
    );
  }

  private post<T>(path: string, data: RangeBody): Observable<FetchResponse<T>> {
    const options: BackendSrvRequest = {
      url: `${this.baseUrl}${path}`,
      method: 'POST',
      data,
      headers: { 'Content-Type': 'application/json' },
      // Errors are shown in the query editor; Grafana's toast would repeat them.
      showErrorAlert: false,
    };
    return getBackendSrv().fetch<T>(options);
  }

  private queryError(what: string, refId: string, err: unknown): DataQueryError {
    const { status, code, message } = decodeError(err);
    const prefix = code ? `${what}: ${code}: ` : `${what}: `;
    return { refId, status, message: prefix + message };
  }

  async testDatasource(): Promise<TestDataSourceResponse> {
    if (!this.backendUrl) {
      return {
        status: 'error',
        message: 'Set the Prescaler backend URL (for example http://prescaler:8080) and save.',
      };
    }
    try {
      const res = await lastValueFrom(
        getBackendSrv().fetch<HealthAnswer>({
          url: `${this.baseUrl}/api/health`,
          method: 'GET',
          showErrorAlert: false,
        })
      );
      const health = res.data;
      if (!health || typeof health.status !== 'string') {
        return {
          status: 'error',
          message: `${this.backendUrl} answered /api/health, but not like a Prescaler backend. Is the URL right?`,
        };
      }
      const models = [
        health.models?.forecaster &&
          `forecaster ${health.models.forecaster.id} v${health.models.forecaster.version}`,
        health.models?.anomaly &&
          `anomaly model ${health.models.anomaly.id} v${health.models.anomaly.version}`,
      ].filter(Boolean);
      const summary = `${health.source} source${models.length ? `, ${models.join(', ')}` : ''}`;
      if (health.status !== 'ok') {
        // Reachable but not whole: say what is missing instead of a green tick.
        const problems = health.errors?.length ? ` Problems: ${health.errors.join('; ')}.` : '';
        return {
          status: 'warning',
          message: `Prescaler backend is ${health.status}: ${summary}.${problems}`,
        };
      }
      return { status: 'success', message: `Prescaler backend is ok: ${summary}.` };
    } catch (err) {
      return { status: 'error', message: this.explainHealthError(err) };
    }
  }

  private explainHealthError(err: unknown): string {
    const { status, message } = decodeError(err);
    const url = this.backendUrl;
    if (status === undefined || status === 0 || status === 502 || status === 504) {
      return `Grafana could not reach the Prescaler backend at ${url} (${message}). Check the URL as seen from the Grafana server and that the backend is running.`;
    }
    // Grafana's data proxy turns the backend's 401 into this 400 (pkg/api/pluginproxy/ds_proxy.go).
    if (status === 401 || status === 403 || (status === 400 && message === DATA_PROXY_AUTH_FAILED)) {
      return `The backend at ${url} refused the API token (${status}: ${message}). Check the token in this data source's settings.`;
    }
    if (status === 404) {
      return `No Prescaler API at ${url}: /api/health answered 404. Use the backend's base URL, without /api.`;
    }
    if (status === 503) {
      return `The backend at ${url} is up but not ready yet (${message}).`;
    }
    return `The backend at ${url} answered ${status}: ${message}`;
  }
}
