// Calls the backend through the app's proxy routes, where Grafana adds the token and enforces reqRole.
import { lastValueFrom } from 'rxjs';
import { getBackendSrv } from '@grafana/runtime';

import {
  APP_PROXY_BASE,
  AuditRecord,
  AuditAnswer,
  Recommendation,
  RecommendationsAnswer,
  Target,
  TargetsAnswer,
  WhatifAnswer,
  WhatifRequest,
} from './contract';

async function get<T>(path: string): Promise<T> {
  const res = await lastValueFrom(
    getBackendSrv().fetch<T>({ url: `${APP_PROXY_BASE}${path}`, method: 'GET', showErrorAlert: false })
  );
  return res.data;
}

export async function fetchRecommendations(): Promise<Recommendation[]> {
  return (await get<RecommendationsAnswer>('/api/recommendations')).recommendations ?? [];
}

/** Only the ones an operator can still act on; the backend expires due ones before it answers. */
export async function fetchPendingRecommendations(): Promise<Recommendation[]> {
  return (await get<RecommendationsAnswer>('/api/recommendations?status=pending')).recommendations ?? [];
}

export async function fetchTargets(): Promise<Target[]> {
  return (await get<TargetsAnswer>('/api/targets')).targets ?? [];
}

/** Newest first. */
export async function fetchAudit(limit: number): Promise<AuditRecord[]> {
  return (await get<AuditAnswer>(`/api/audit?limit=${limit}`)).records ?? [];
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

/**
 * What the target's last 7 days (the backend's default range) would have cost under HPA and Prescaler at
 * equal violations. Seconds of backend CPU per call: the backend runs one at a time and refuses (429) past a
 * short queue, so callers ask for one target after another.
 */
export async function fetchWhatif(target: string): Promise<WhatifAnswer> {
  const res = await lastValueFrom(
    getBackendSrv().fetch<WhatifAnswer>({
      url: `${APP_PROXY_BASE}/api/whatif`,
      method: 'POST',
      data: { target } satisfies WhatifRequest,
      showErrorAlert: false,
    })
  );
  return res.data;
}
