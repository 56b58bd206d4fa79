// A BackendSrv whose fetch is a jest mock, for asserting the exact requests plugins send.
import { Observable, of, throwError } from 'rxjs';
import { BackendSrv, BackendSrvRequest, FetchError, FetchResponse, setBackendSrv } from '@grafana/runtime';

export type Responder = (req: BackendSrvRequest) => Observable<FetchResponse<unknown>>;

export function mockBackendSrv(responder: Responder) {
  const fetch = jest.fn((req: BackendSrvRequest) => responder(req));
  setBackendSrv({ fetch } as unknown as BackendSrv);
  return fetch;
}

export function ok<T>(data: T, req?: BackendSrvRequest): Observable<FetchResponse<T>> {
  return of({
    data,
    status: 200,
    statusText: 'OK',
    ok: true,
    headers: new Headers(),
    redirected: false,
    type: 'basic',
    url: req?.url ?? '',
    config: req ?? { url: '' },
  } as FetchResponse<T>);
}

export function fail(status: number, data: unknown, statusText = ''): Observable<never> {
  const err: FetchError = { status, data, statusText, config: { url: '' } };
  return throwError(() => err);
}
