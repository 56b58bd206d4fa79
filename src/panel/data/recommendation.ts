// Which recommendation the card shows (pure). Whether the user may apply it: src/shared/apply.ts.
import { APPLICABLE_STATUSES, isExpired } from '../../shared/apply';
import { Recommendation } from '../../shared/contract';

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
  return [...candidates].sort((a, b) => rank(b) - rank(a) || b.expiresAt - a.expiresAt)[0];
}

export interface TargetRecommendation {
  recommendation: Recommendation;
  /** The first shown series the target belongs to, and its colour in the chart. */
  seriesName?: string;
  color?: string;
}

/**
 * One recommendation per target for the recommendation list: the option's target alone when it is set,
 * otherwise every target named by a label value of a shown series, in the order of the series (the legend's
 * order), each with the colour of the first series it belongs to.
 */
export function recommendationsByTarget(
  recommendations: Recommendation[],
  {
    target,
    series,
    now,
  }: { target: string; series: Array<{ name: string; color: string; labelValues: string[] }>; now: number }
): TargetRecommendation[] {
  const wanted = target.trim();
  const targets = wanted
    ? [wanted]
    : [...new Set(recommendations.map((r) => r.target))]
        .filter((t) => series.some((s) => s.labelValues.includes(t)))
        .sort(
          (a, b) =>
            series.findIndex((s) => s.labelValues.includes(a)) -
            series.findIndex((s) => s.labelValues.includes(b))
        );
  return targets.flatMap((t) => {
    const recommendation = pickRecommendation(recommendations, { target: t, labelValues: [], now });
    if (!recommendation) {
      return [];
    }
    const s = series.find((x) => x.labelValues.includes(t));
    return [{ recommendation, seriesName: s?.name, color: s?.color }];
  });
}
