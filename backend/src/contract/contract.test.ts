/**
 * The contract (api.ts) against the backend that answers it and the app's fixtures that stand in for it.
 * Each answer type has a zod schema here whose type tsc holds equal to the contract's (`Same`); the real
 * backend's answers, in process over the demo source, must parse with them (strict: no field the contract
 * does not name), and so must the app's fixtures (src/pages/fixtures.ts, src/datasource/fixtures.ts).
 */
import { z } from 'zod';
import { startTestServer, type TestServer } from '../../../test/helpers/server';
import * as pageFixtures from '../../../src/pages/fixtures';
import * as dataFixtures from '../../../src/datasource/fixtures';
import { ERROR_STATUS } from '../errors';
import { DEFAULT_STEP, forecastBodySchema, rangeBodySchema } from '../http/validate';
import { whatifBodySchema } from '../http/routes/whatif';
import { parseDuration as seriesParseDuration, parseTime as seriesParseTime } from '../series/time';
import { DemoSource } from '../sources/demo';
import type {
  AnomaliesAnswer,
  ApiError,
  AuditAnswer,
  AuditRecord,
  ForecastAnswer,
  ForecastBasis,
  ForecastRequest,
  HealthAnswer,
  RangeRequest,
  Recommendation,
  RecommendationDetail,
  RecommendationsAnswer,
  Target,
  TargetsAnswer,
  WhatifAnswer,
  WhatifRequest,
} from './api';
import { DEFAULT_STEP_SECONDS, ms, parseDuration, parseTime, REPLICA_LIMITS } from './index';

/** true when A and B are assignable both ways: a field added, dropped or made optional on one side fails. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

const num = z.number();
const figure = z.number().nullable();
const labels = z.record(z.string());
const modelRef = z.object({ id: z.string(), version: z.string() }).strict();

const errorCode = z.enum([
  'bad_request',
  'bad_query',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'too_large',
  'insufficient_history',
  'rate_limited',
  'internal',
  'upstream_error',
  'not_ready',
  'upstream_timeout',
]);
const apiError = z.object({ error: z.object({ code: errorCode, message: z.string() }).strict() }).strict();

const health = z
  .object({
    status: z.enum(['ok', 'degraded']),
    source: z.enum(['prometheus', 'demo']),
    upstream: z.union([
      z.object({ ok: z.literal(true), version: z.string().nullable() }).strict(),
      z.object({ ok: z.literal(false), error: z.string() }).strict(),
    ]),
    models: z.object({ forecaster: modelRef.nullable(), anomaly: modelRef.nullable() }).strict(),
    role: z.enum(['leader', 'follower']).optional(),
    leader: z.string().nullable().optional(),
    identity: z.string().optional(),
    errors: z.array(z.string()).optional(),
  })
  .strict();

const forecastAnswer = z
  .object({
    series: z.array(
      z
        .object({
          labels,
          actual: z.array(z.tuple([num, num])),
          forecast: z.array(z.tuple([num, num, num, num])),
          model: z.string(),
          warning: z.string().optional(),
        })
        .strict()
    ),
  })
  .strict();

const anomaliesAnswer = z
  .object({
    series: z.array(
      z
        .object({
          labels,
          scores: z.array(z.tuple([num, num])),
          anomalies: z.array(z.tuple([num, num, num])),
          threshold: figure,
          warning: z.string().optional(),
        })
        .strict()
    ),
  })
  .strict();

const forecastBasis = z
  .object({
    quantile: z.string(),
    demand: num,
    demandAt: num,
    leadTime: num,
    peakFactor: num.optional(),
    utilization: num.optional(),
    desiredReplicas: num,
    limitedBy: z.array(z.enum(REPLICA_LIMITS)),
    model: z.string(),
    points: z.array(z.tuple([num, num, num, num])),
  })
  .strict();

const recommendation = z
  .object({
    id: z.string(),
    target: z.string(),
    kind: z.enum(['forecast', 'emergency']),
    currentReplicas: num,
    recommendedReplicas: num,
    reason: z.string(),
    forecast: forecastBasis.nullable(),
    createdAt: num,
    expiresAt: num,
    status: z.enum(['pending', 'applied', 'expired', 'superseded', 'failed']),
    statusAt: num,
  })
  .strict();

const auditRecord = z
  .object({
    id: num,
    at: num,
    action: z.enum(['apply', 'revert-floor']),
    actor: z.string(),
    target: z.string(),
    fromReplicas: num,
    toReplicas: num,
    recommendationId: z.string().nullable(),
    outcome: z.enum(['unknown', 'applied', 'failed']),
    dryRun: z.boolean(),
    detail: z.string().nullable(),
    finishedAt: num.nullable(),
    reconciled: z.boolean(),
  })
  .strict();

const recommendationsAnswer = z.object({ recommendations: z.array(recommendation) }).strict();
const recommendationDetail = recommendation.extend({ audit: auditRecord.nullable() }).strict();
const auditAnswer = z.object({ records: z.array(auditRecord) }).strict();

const targetEvaluation = z
  .object({
    target: z.string(),
    at: num,
    ok: z.boolean(),
    error: z.object({ reason: z.string(), message: z.string() }).strict().optional(),
    currentReplicas: num.optional(),
    recommendedReplicas: num.optional(),
    desiredReplicas: num.optional(),
    demand: num.optional(),
    reason: z.string().optional(),
    anomalyScore: figure.optional(),
    anomalyThreshold: num.optional(),
    recommendationId: z.string().optional(),
  })
  .strict();

const target = z
  .object({
    name: z.string(),
    namespace: z.string(),
    workload: z
      .object({ kind: z.enum(['Deployment', 'StatefulSet', 'HorizontalPodAutoscaler']), name: z.string() })
      .strict(),
    mode: z.enum(['scale', 'hpa-floor']),
    query: z.string(),
    unit: z.string().optional(),
    capacityPerReplica: num,
    targetUtilization: num,
    minReplicas: num,
    maxReplicas: num,
    autoApplyEmergency: z.object({ enabled: z.boolean(), maxReplicas: num.optional() }).strict(),
    actuator: z.enum(['dry-run', 'kubernetes']),
    dryRun: z.boolean(),
    state: z
      .object({
        replicas: num,
        setpoint: num,
        hpa: z.object({ minReplicas: num, maxReplicas: num }).strict().optional(),
        floor: z.object({ replicas: num, originalMinReplicas: num, expiresAt: num }).strict().optional(),
      })
      .strict()
      .nullable(),
    stateError: z.string().optional(),
    lastEvaluation: targetEvaluation.nullable(),
    pending: z.array(recommendation),
  })
  .strict();
const targetsAnswer = z.object({ targets: z.array(target) }).strict();

const whatifPoint = z
  .object({
    setting: z
      .object({
        targetUtilization: num.optional(),
        quantile: z.enum(['lower', 'mean', 'upper']).optional(),
        utilization: num.optional(),
        hpaTarget: num.optional(),
        peakQuantile: z.union([num, z.literal('off')]).optional(),
      })
      .strict(),
    replicaHours: figure,
    violationMinutes: figure,
    lateScaleUps: figure,
    meanRecoveryMinutes: figure,
    peakCoverage: figure.optional(),
  })
  .strict();
const whatifComparison = z
  .object({
    hpa: whatifPoint,
    prescaler: whatifPoint,
    oracle: whatifPoint,
    saving: figure,
    savingCi95: z.tuple([figure, figure]),
    gapCaptured: figure,
    chosenOn: z.object({ hpa: whatifPoint, prescaler: whatifPoint, violationLimit: figure }).strict(),
  })
  .strict();
const span = z.object({ start: num, end: num }).strict();
const whatifAnswer = z
  .object({
    target: z.string(),
    start: num,
    end: num,
    step: num,
    points: num,
    forecaster: z.object({ name: z.string(), id: z.string(), version: z.string() }).strict(),
    evaluatedHours: num,
    demandScale: num,
    options: z
      .object({
        scaling: z.enum(['capacityPerReplica', 'peakReplicas']),
        peakReplicas: num,
        capacityPerReplica: num.optional(),
        startup: num.optional(),
        targetUtilization: num.optional(),
        minReplicas: num.optional(),
        maxReplicas: num.optional(),
        tick: num,
        quantile: z.enum(['lower', 'mean', 'upper']),
        floorUtilization: num,
        interval: num,
        metricLag: num,
      })
      .strict(),
    results: z.array(
      z
        .object({
          policy: z.string(),
          replicaHours: figure,
          violationMinutes: figure,
          lateScaleUps: figure,
          meanRecoveryMinutes: figure,
        })
        .strict()
    ),
    comparison: z
      .object({
        split: z.object({ warmUp: span, validation: span, test: span }).strict(),
        history: span.extend({ step: num, points: num }).strict(),
        evaluatedHours: num,
        validationHours: num,
        budget: z.object({ violationMinutes: num, validationViolationMinutes: num }).strict(),
        tuned: whatifComparison,
        default: whatifComparison,
        frontier: z.object({ hpa: z.array(whatifPoint), prescaler: z.array(whatifPoint) }).strict(),
        oracle: whatifPoint,
      })
      .strict(),
  })
  .strict();

// tsc: every schema above is the contract's type, and every request type is what the backend parses.
const _same: Array<true> = [
  true satisfies Same<z.infer<typeof apiError>, ApiError>,
  true satisfies Same<z.infer<typeof health>, HealthAnswer>,
  true satisfies Same<z.infer<typeof forecastAnswer>, ForecastAnswer>,
  true satisfies Same<z.infer<typeof anomaliesAnswer>, AnomaliesAnswer>,
  true satisfies Same<z.infer<typeof forecastBasis>, ForecastBasis>,
  true satisfies Same<z.infer<typeof recommendation>, Recommendation>,
  true satisfies Same<z.infer<typeof auditRecord>, AuditRecord>,
  true satisfies Same<z.infer<typeof recommendationsAnswer>, RecommendationsAnswer>,
  true satisfies Same<z.infer<typeof recommendationDetail>, RecommendationDetail>,
  true satisfies Same<z.infer<typeof auditAnswer>, AuditAnswer>,
  true satisfies Same<z.infer<typeof target>, Target>,
  true satisfies Same<z.infer<typeof targetsAnswer>, TargetsAnswer>,
  true satisfies Same<z.infer<typeof whatifAnswer>, WhatifAnswer>,
  true satisfies Same<z.input<typeof rangeBodySchema>, RangeRequest>,
  true satisfies Same<z.input<typeof forecastBodySchema>, ForecastRequest>,
  true satisfies Same<z.input<typeof whatifBodySchema>, WhatifRequest>,
];

/** Parses with the schema, failing with zod's own list of what differs. */
function conforms<T extends z.ZodTypeAny>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new Error(JSON.stringify(r.error.issues.slice(0, 5), null, 2));
  return r.data;
}

describe('the contract module', () => {
  it('has the defaults, error codes and time parsers the backend uses, once', () => {
    expect(_same.every(Boolean)).toBe(true);
    expect(DEFAULT_STEP_SECONDS).toBe(DEFAULT_STEP);
    expect([...errorCode.options].sort()).toEqual(Object.keys(ERROR_STATUS).sort());
    expect(parseDuration).toBe(seriesParseDuration);
    expect(parseTime).toBe(seriesParseTime);
    expect(ms(1_764_000_000)).toBe(1_764_000_000_000);
    expect(ms(1.2345)).toBe(1235);
    expect(parseDuration('1h30m')).toBe(5400);
  });

  it("describes the app's fixtures", () => {
    conforms(forecastAnswer, dataFixtures.forecastResponse);
    conforms(anomaliesAnswer, dataFixtures.anomaliesResponse);
    for (const r of [pageFixtures.webRecommendation, pageFixtures.apiEmergency]) conforms(recommendation, r);
    conforms(targetsAnswer, { targets: pageFixtures.targets });
    conforms(auditAnswer, { records: [pageFixtures.appliedRecord, pageFixtures.olderRecord] });
    conforms(whatifAnswer, pageFixtures.webWhatif);
  });
});

describe("the backend's answers", () => {
  const OPERATOR = 'contract-operator-token-0123456789';
  // One "now" for the demo's data and the loop; the real one, since the routes expire recommendations by it.
  const NOW = Math.floor(Date.now() / 1000);
  const WEB = 'demo_cpu_usage{deployment="web"}';
  let harness: TestServer;
  let url: string;

  beforeAll(async () => {
    harness = await startTestServer({
      yaml: `auth:
  anonymousReads: true
  tokens:
    - {name: sre, token: "${OPERATOR}", role: operator}
targets:
  - name: web
    namespace: shop
    workload: {kind: Deployment, name: web}
    query: ${WEB}
    unit: cores
    capacityPerReplica: 0.1
    minReplicas: 1
    maxReplicas: 200
  - name: worker
    namespace: shop
    workload: {kind: HorizontalPodAutoscaler, name: worker}
    query: demo_cpu_usage{deployment="worker"}
    capacityPerReplica: 0.05
    maxReplicas: 300
  - name: ghost
    workload: {kind: StatefulSet, name: ghost}
    query: demo_cpu_usage{deployment="nope"}
    capacityPerReplica: 0.5
    maxReplicas: 5
`,
      startLoop: false,
      source: new DemoSource({ now: () => NOW }),
      loopNow: () => NOW,
    });
    url = harness.srv.url;
    await harness.srv.loop.evaluateNow();
  }, 120_000);

  afterAll(() => harness?.close());

  const call = async (path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(url + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as unknown };
  };

  it('GET /api/health', async () => {
    const { status, body } = await call('/api/health');
    expect(status).toBe(200);
    expect(conforms(health, body).models.forecaster).not.toBeNull();
  });

  it('POST /api/forecast and /api/anomalies, times in ms', async () => {
    const request: ForecastRequest = { query: WEB, end: NOW, horizon: '30m' };
    const f = await call('/api/forecast', request);
    expect(f.status).toBe(200);
    const [series] = conforms(forecastAnswer, f.body).series;
    expect(series.actual.at(-1)![0]).toBe(ms(NOW));
    expect(series.forecast).toHaveLength(3);

    const a = await call('/api/anomalies', { query: WEB, end: NOW } satisfies RangeRequest);
    expect(a.status).toBe(200);
    expect(conforms(anomaliesAnswer, a.body).series[0].scores.length).toBeGreaterThan(0);
  }, 60_000);

  it('GET /api/targets, /api/recommendations(/:id), POST …/apply, GET /api/audit', async () => {
    const t = await call('/api/targets');
    expect(t.status).toBe(200);
    const { targets } = conforms(targetsAnswer, t.body);
    expect(targets.map((x) => [x.name, x.mode, x.lastEvaluation?.ok])).toEqual([
      ['web', 'scale', true],
      ['worker', 'hpa-floor', true],
      ['ghost', 'scale', false],
    ]);
    expect(targets[0].lastEvaluation!.at).toBe(ms(NOW));

    const list = await call('/api/recommendations');
    const { recommendations } = conforms(recommendationsAnswer, list.body);
    const web = recommendations.find((r) => r.target === 'web')!;
    expect(web).toMatchObject({ kind: 'forecast', status: 'pending', createdAt: ms(NOW) });

    const applied = await call(
      `/api/recommendations/${web.id}/apply`,
      {},
      {
        authorization: `Bearer ${OPERATOR}`,
      }
    );
    expect(applied.status).toBe(200);
    expect(conforms(auditRecord, applied.body)).toMatchObject({
      outcome: 'applied',
      recommendationId: web.id,
    });

    const detail = await call(`/api/recommendations/${web.id}`);
    expect(conforms(recommendationDetail, detail.body).audit).not.toBeNull();

    const audit = await call('/api/audit');
    expect(conforms(auditAnswer, audit.body).records).toHaveLength(1);
  }, 60_000);

  it('POST /api/whatif', async () => {
    const request: WhatifRequest = { target: 'web', start: NOW - 26 * 3600, end: NOW };
    const { status, body } = await call('/api/whatif', request);
    expect(status).toBe(200);
    expect(conforms(whatifAnswer, body)).toMatchObject({ start: ms(NOW - 26 * 3600), end: ms(NOW) });
  }, 120_000);

  it('errors', async () => {
    const missing = await call('/api/recommendations/no-such-id');
    expect(missing.status).toBe(404);
    expect(conforms(apiError, missing.body).error.code).toBe('not_found');
    const refused = await call('/api/forecast', { query: WEB, step: 'often' });
    expect(refused.status).toBe(400);
    expect(conforms(apiError, refused.body).error.code).toBe('bad_request');
  });
});
