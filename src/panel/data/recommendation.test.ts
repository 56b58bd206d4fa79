import { Recommendation } from '../../shared/contract';
import { applyBlockedReason, hasEditorRights } from '../../shared/apply';
import { pickRecommendation, recommendationsByTarget } from './recommendation';

const NOW = 1_700_000_000_000;
const rec = (over: Partial<Recommendation>): Recommendation => ({
  id: 'r1',
  target: 'web',
  kind: 'forecast',
  currentReplicas: 3,
  recommendedReplicas: 7,
  reason: 'forecast 3.1 cores in 15 min',
  forecast: null,
  createdAt: NOW - 60_000,
  expiresAt: NOW + 600_000,
  status: 'pending',
  statusAt: NOW - 60_000,
  ...over,
});
const formatTime = (ms: number) => new Date(ms).toISOString();

describe('pickRecommendation', () => {
  const recs = [
    rec({ id: 'old', expiresAt: NOW - 1 }),
    rec({ id: 'api', target: 'api' }),
    rec({ id: 'new', expiresAt: NOW + 900_000 }),
    rec({ id: 'applied', status: 'applied', expiresAt: NOW + 999_999 }),
  ];
  it('matches the target option and prefers an applicable one', () => {
    expect(pickRecommendation(recs, { target: 'web', labelValues: [], now: NOW })?.id).toBe('new');
    expect(pickRecommendation(recs, { target: 'api', labelValues: ['web'], now: NOW })?.id).toBe('api');
  });
  it('falls back to a target named by a label value', () => {
    expect(pickRecommendation(recs, { target: '', labelValues: ['default', 'api'], now: NOW })?.id).toBe(
      'api'
    );
    expect(pickRecommendation(recs, { target: '', labelValues: ['db'], now: NOW })).toBeUndefined();
  });
  it('still shows the latest one when none is applicable', () => {
    expect(
      pickRecommendation([rec({ id: 'a', status: 'applied' })], { target: 'web', labelValues: [], now: NOW })
        ?.id
    ).toBe('a');
  });
});

describe('applyBlockedReason', () => {
  it('lets editors and admins apply a pending, unexpired change', () => {
    expect(applyBlockedReason(rec({}), { role: 'Editor', now: NOW, formatTime })).toBeUndefined();
    expect(applyBlockedReason(rec({}), { role: 'Admin', now: NOW, formatTime })).toBeUndefined();
    expect(
      applyBlockedReason(rec({}), { role: 'Viewer', isGrafanaAdmin: true, now: NOW, formatTime })
    ).toBeUndefined();
  });
  it('names the missing role for viewers', () => {
    expect(applyBlockedReason(rec({}), { role: 'Viewer', now: NOW, formatTime })).toBe(
      'Applying needs the Editor role in this organization; you are a Viewer.'
    );
    expect(hasEditorRights('None')).toBe(false);
  });
  it('explains expired, applied and no-op recommendations', () => {
    expect(
      applyBlockedReason(rec({ expiresAt: NOW - 60_000 }), { role: 'Editor', now: NOW, formatTime })
    ).toBe(`This recommendation expired at ${formatTime(NOW - 60_000)}.`);
    expect(applyBlockedReason(rec({ status: 'applied' }), { role: 'Editor', now: NOW, formatTime })).toBe(
      'This recommendation is applied.'
    );
    expect(
      applyBlockedReason(rec({ recommendedReplicas: 3 }), { role: 'Editor', now: NOW, formatTime })
    ).toMatch(/already runs 3 replicas/);
  });
});

describe('recommendationsByTarget', () => {
  const series = [
    { name: 'api cpu', color: 'yellow', labelValues: ['api', 'shop'] },
    { name: 'web cpu', color: 'green', labelValues: ['web', 'shop'] },
    { name: 'web memory', color: 'blue', labelValues: ['web', 'shop'] },
  ];
  const recs = [
    rec({ id: 'web-old', expiresAt: NOW - 1 }),
    rec({ id: 'web-new' }),
    rec({ id: 'api', target: 'api' }),
    rec({ id: 'batch', target: 'batch' }),
  ];
  it('gives one per target named by a series, in the order of the series, with its first colour', () => {
    expect(
      recommendationsByTarget(recs, { target: '', series, now: NOW }).map((r) => [
        r.recommendation.id,
        r.seriesName,
        r.color,
      ])
    ).toEqual([
      ['api', 'api cpu', 'yellow'],
      ['web-new', 'web cpu', 'green'],
    ]);
  });
  it("gives the option's target alone, coloured when a series names it", () => {
    expect(
      recommendationsByTarget(recs, { target: ' batch ', series, now: NOW }).map((r) => [
        r.recommendation.id,
        r.color,
      ])
    ).toEqual([['batch', undefined]]);
    expect(recommendationsByTarget(recs, { target: 'none', series, now: NOW })).toEqual([]);
  });
});
