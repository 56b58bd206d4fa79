// Calls the backend through the app's proxy routes, where Grafana adds the token and enforces reqRole.
import { lastValueFrom } from 'rxjs';
import { getBackendSrv } from '@grafana/runtime';

import { APP_PROXY_BASE, AuditRecord, Recommendation, RecommendationsResponse } from '../shared/contract';

export async function fetchRecommendations(): Promise<Recommendation[]> {
  const res = await lastValueFrom(
    getBackendSrv().fetch<RecommendationsResponse>({
      url: `${APP_PROXY_BASE}/api/recommendations`,
      method: 'GET',
      showErrorAlert: false,
    })
  );
  return res.data.recommendations ?? [];
}

/** The request names only the recommendation; the server decides target and replicas and re-checks them. */
export async function applyRecommendation(id: string): Promise<AuditRecord> {
  const res = await lastValueFrom(
    getBackendSrv().fetch<AuditRecord>({
      url: `${APP_PROXY_BASE}/api/recommendations/${encodeURIComponent(id)}/apply`,
      method: 'POST',
      data: {},
      showErrorAlert: false,
    })
  );
  return res.data;
}
