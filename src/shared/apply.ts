// Whether this user may apply a recommendation, in words (pure; Grafana's reqRole and the backend re-check).
import { Recommendation } from './contract';

/** Statuses in which the backend accepts an apply. */
export const APPLICABLE_STATUSES = ['pending'];

export function isExpired(rec: Recommendation, now: number): boolean {
  const expires = rec.expiresAt;
  return Number.isFinite(expires) && expires <= now;
}

export type OrgRole = 'Admin' | 'Editor' | 'Viewer' | 'None' | string;

export function hasEditorRights(role: OrgRole | undefined, isGrafanaAdmin = false): boolean {
  return isGrafanaAdmin || role === 'Editor' || role === 'Admin';
}

/** Why Apply is disabled, in words for the user; undefined when it may be pressed. */
export function applyBlockedReason(
  rec: Recommendation,
  {
    role,
    isGrafanaAdmin,
    now,
    formatTime,
  }: { role?: OrgRole; isGrafanaAdmin?: boolean; now: number; formatTime: (ms: number) => string }
): string | undefined {
  if (!hasEditorRights(role, isGrafanaAdmin)) {
    return `Applying needs the Editor role in this organization; you are ${role && role !== 'None' ? `a ${role}` : 'not a member'}.`;
  }
  if (!APPLICABLE_STATUSES.includes(rec.status)) {
    return `This recommendation is ${rec.status}.`;
  }
  if (isExpired(rec, now)) {
    return `This recommendation expired at ${formatTime(rec.expiresAt)}.`;
  }
  if (rec.currentReplicas === rec.recommendedReplicas) {
    return `Nothing to change: ${rec.target} already runs ${rec.currentReplicas} replicas.`;
  }
  return undefined;
}
