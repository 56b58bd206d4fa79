// Which recommendation the card shows, and whether this user may apply it (pure; the server re-checks).
import { Recommendation, toEpochMs } from '../../shared/contract';

/** Statuses in which the backend accepts an apply. */
export const APPLICABLE_STATUSES = ['pending'];

export function isExpired(rec: Recommendation, now: number): boolean {
  const expires = toEpochMs(rec.expiresAt);
  return Number.isFinite(expires) && expires <= now;
}

/**
 * The recommendation for the panel's target: the option when set, otherwise a target whose name is a
 * label value of the shown series (e.g. target `web` for deployment="web"). Applicable ones win, then the
 * latest expiry.
 */
export function pickRecommendation(
  recommendations: Recommendation[],
  { target, labelValues, now }: { target: string; labelValues: string[]; now: number }
): Recommendation | undefined {
  const wanted = target.trim();
  const candidates = recommendations.filter((r) =>
    wanted ? r.target === wanted : labelValues.includes(r.target)
  );
  const rank = (r: Recommendation) => (APPLICABLE_STATUSES.includes(r.status) && !isExpired(r, now) ? 1 : 0);
  return [...candidates].sort(
    (a, b) => rank(b) - rank(a) || toEpochMs(b.expiresAt) - toEpochMs(a.expiresAt)
  )[0];
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
    return `This recommendation expired at ${formatTime(toEpochMs(rec.expiresAt))}.`;
  }
  if (rec.currentReplicas === rec.recommendedReplicas) {
    return `Nothing to change: ${rec.target} already runs ${rec.currentReplicas} replicas.`;
  }
  return undefined;
}
