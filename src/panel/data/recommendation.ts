// Which recommendation the card shows (pure). Whether the user may apply it: src/shared/apply.ts.
import { APPLICABLE_STATUSES, isExpired } from '../../shared/apply';
import { Recommendation, toEpochMs } from '../../shared/contract';

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
