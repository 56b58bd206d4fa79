// Backend answers in the exact shapes GET /api/targets, /api/recommendations and /api/audit give
// (taken from a demo-source backend with two dry-run targets, forecast points trimmed).
import type { AuditRecord, Recommendation, Target, WhatifAnswer } from '../shared/contract';

export const NOW = Date.now();
const MIN = 60_000;

export const webRecommendation: Recommendation = {
  id: 'rec-82e3e8db-20f7-4257-be9f-9d264f770f48',
  target: 'web',
  kind: 'forecast',
  currentReplicas: 1,
  recommendedReplicas: 5,
  reason: 'p90 forecast 1.6 in 10 min → 5 replicas at 70 %; now 1',
  forecast: {
    quantile: 'p90',
    demand: 1.5925385557388163,
    demandAt: NOW + 10 * MIN,
    leadTime: 180,
    desiredReplicas: 5,
    limitedBy: [],
    model: 'prescaler-lstm@2026-11-28-02a34a23',
    points: [[NOW + 10 * MIN, 0.7551112573860214, 0, 1.5925385557388163]],
  },
  createdAt: NOW - MIN,
  expiresAt: NOW + 14 * MIN,
  status: 'pending',
  statusAt: NOW - MIN,
};

export const apiEmergency: Recommendation = {
  id: 'rec-d1018045-723a-4857-93d7-ccac894e8aae',
  target: 'api',
  kind: 'emergency',
  currentReplicas: 4,
  recommendedReplicas: 6,
  reason: 'alert PrescalerAnomalyScoreHigh firing: +50 % → 6 replicas; now 4',
  forecast: null,
  createdAt: NOW - 2 * MIN,
  expiresAt: NOW + 13 * MIN,
  status: 'pending',
  statusAt: NOW - 2 * MIN,
};

export const targets: Target[] = [
  {
    name: 'web',
    namespace: 'shop',
    workload: { kind: 'Deployment', name: 'web' },
    mode: 'scale',
    query: 'demo_cpu_usage{deployment="web"}',
    unit: 'cores',
    capacityPerReplica: 0.5,
    targetUtilization: 0.7,
    minReplicas: 1,
    maxReplicas: 20,
    autoApplyEmergency: { enabled: false },
    actuator: 'dry-run',
    dryRun: true,
    state: { replicas: 1, setpoint: 1 },
    lastEvaluation: {
      target: 'web',
      at: NOW - MIN,
      ok: true,
      currentReplicas: 1,
      recommendedReplicas: 5,
      desiredReplicas: 5,
      demand: 1.5925385557388163,
      reason: 'p90 forecast 1.6 in 10 min → 5 replicas at 70 %; now 1',
      anomalyScore: 0.33263764847102756,
      anomalyThreshold: 0.7665,
      recommendationId: webRecommendation.id,
    },
    pending: [webRecommendation],
  },
  {
    name: 'api',
    namespace: 'shop',
    workload: { kind: 'HorizontalPodAutoscaler', name: 'api' },
    mode: 'hpa-floor',
    query: 'demo_cpu_usage{deployment="api"}',
    capacityPerReplica: 0.5,
    targetUtilization: 0.7,
    minReplicas: 2,
    maxReplicas: 12,
    autoApplyEmergency: { enabled: false },
    actuator: 'dry-run',
    dryRun: true,
    state: { replicas: 4, setpoint: 2, hpa: { minReplicas: 2, maxReplicas: 12 } },
    lastEvaluation: {
      target: 'api',
      at: NOW - MIN,
      ok: false,
      error: { reason: 'insufficient_history', message: 'need 144 points of history, have 20' },
    },
    pending: [apiEmergency],
  },
  {
    name: 'batch',
    namespace: 'jobs',
    workload: { kind: 'StatefulSet', name: 'batch' },
    mode: 'scale',
    query: 'demo_cpu_usage{deployment="batch"}',
    capacityPerReplica: 1,
    targetUtilization: 0.8,
    minReplicas: 1,
    maxReplicas: 4,
    autoApplyEmergency: { enabled: false },
    actuator: 'dry-run',
    dryRun: true,
    state: null,
    stateError: 'statefulsets.apps "batch" not found',
    lastEvaluation: null,
    pending: [],
  },
];

export const olderRecord: AuditRecord = {
  id: 3,
  at: NOW - 90 * MIN,
  action: 'apply',
  actor: 'token:grafana (grafana user alice)',
  target: 'api',
  fromReplicas: 2,
  toReplicas: 4,
  recommendationId: 'rec-0b1c',
  outcome: 'failed',
  dryRun: false,
  detail: 'stale: api now runs 3 replicas, the recommendation was made at 2; wait for the next evaluation',
  finishedAt: NOW - 90 * MIN,
  reconciled: false,
};

export const appliedRecord: AuditRecord = {
  id: 4,
  at: NOW,
  action: 'apply',
  actor: 'token:grafana',
  target: 'web',
  fromReplicas: 1,
  toReplicas: 5,
  recommendationId: webRecommendation.id,
  outcome: 'applied',
  dryRun: true,
  detail: 'dry run: would set shop/Deployment/web to 5 replicas',
  finishedAt: NOW,
  reconciled: false,
};

/**
 * POST /api/whatif {target: "web", end: 1780000000} against the demo-source backend and the shipped model,
 * as it answered (only comparison.frontier trimmed to a few settings).
 */
export const webWhatif: WhatifAnswer = {
  target: 'web',
  start: 1779395200000,
  end: 1780000000000,
  step: 60,
  points: 10081,
  forecaster: {
    name: 'lstm',
    id: 'prescaler-lstm',
    version: '2026-11-28-7e51da01',
  },
  evaluatedHours: 166.10416666666666,
  demandScale: 1,
  options: {
    scaling: 'capacityPerReplica',
    peakReplicas: 15.0304,
    capacityPerReplica: 0.5,
    startup: 120,
    targetUtilization: 0.7,
    minReplicas: 1,
    maxReplicas: 20,
    tick: 15,
    quantile: 'upper',
    floorUtilization: 0.7,
    interval: 60,
    metricLag: 30,
  },
  results: [
    {
      policy: 'hpa',
      replicaHours: 1121.2958333333333,
      violationMinutes: 24.5,
      lateScaleUps: 6,
      meanRecoveryMinutes: 4.083333333333333,
    },
    {
      policy: 'prescaler',
      replicaHours: 1368.2625,
      violationMinutes: 9.5,
      lateScaleUps: 3,
      meanRecoveryMinutes: 2.375,
    },
    {
      policy: 'oracle',
      replicaHours: 836.4708333333333,
      violationMinutes: 0,
      lateScaleUps: 0,
      meanRecoveryMinutes: 0,
    },
  ],
  comparison: {
    split: {
      warmUp: {
        start: 1779395200000,
        end: 1779818560000,
      },
      validation: {
        start: 1779818560000,
        end: 1779879040000,
      },
      test: {
        start: 1779879040000,
        end: 1780000000000,
      },
    },
    history: {
      start: 1778699800000,
      end: 1779395080000,
      step: 120,
      points: 5795,
    },
    evaluatedHours: 33.6,
    validationHours: 16.804166666666667,
    budget: {
      violationMinutes: 2.016,
      validationViolationMinutes: 1.00825,
    },
    tuned: {
      hpa: {
        setting: {
          targetUtilization: 0.85,
        },
        replicaHours: 229.00416666666666,
        violationMinutes: 7.25,
        lateScaleUps: 2,
        meanRecoveryMinutes: 3.625,
      },
      prescaler: {
        setting: {
          quantile: 'mean',
          utilization: 0.9,
          hpaTarget: 0.9,
        },
        replicaHours: 228.95416666666668,
        violationMinutes: 12.5,
        lateScaleUps: 4,
        meanRecoveryMinutes: 3.125,
      },
      oracle: {
        setting: {},
        replicaHours: 208.64583333333334,
        violationMinutes: 0,
        lateScaleUps: 0,
        meanRecoveryMinutes: 0,
      },
      saving: 0.00021833663870740594,
      savingCi95: [-0.007763821580456964, 0.004864849304815899],
      gapCaptured: 0.0024559967253368637,
      chosenOn: {
        hpa: {
          setting: {
            targetUtilization: 0.85,
          },
          replicaHours: 83.34583333333333,
          violationMinutes: 0,
          lateScaleUps: 0,
          meanRecoveryMinutes: 0,
        },
        prescaler: {
          setting: {
            quantile: 'mean',
            utilization: 0.9,
            hpaTarget: 0.9,
          },
          replicaHours: 86.075,
          violationMinutes: 0,
          lateScaleUps: 0,
          meanRecoveryMinutes: 0,
        },
        violationLimit: 1.00825,
      },
    },
    default: {
      hpa: {
        setting: {
          targetUtilization: 0.7,
        },
        replicaHours: 281.875,
        violationMinutes: 1.25,
        lateScaleUps: 1,
        meanRecoveryMinutes: 1.25,
      },
      prescaler: {
        setting: {
          quantile: 'mean',
          utilization: 0.9,
          hpaTarget: 0.9,
        },
        replicaHours: 228.95416666666668,
        violationMinutes: 12.5,
        lateScaleUps: 4,
        meanRecoveryMinutes: 3.125,
      },
      oracle: {
        setting: {},
        replicaHours: 208.64583333333334,
        violationMinutes: 0,
        lateScaleUps: 0,
        meanRecoveryMinutes: 0,
      },
      saving: 0.18774575018477457,
      savingCi95: [0.1775033297009323, 0.19366501061274],
      gapCaptured: 0.7226742532005689,
      chosenOn: {
        hpa: {
          setting: {
            targetUtilization: 0.7,
          },
          replicaHours: 100.82083333333334,
          violationMinutes: 0,
          lateScaleUps: 0,
          meanRecoveryMinutes: 0,
        },
        prescaler: {
          setting: {
            quantile: 'mean',
            utilization: 0.9,
            hpaTarget: 0.9,
          },
          replicaHours: 86.075,
          violationMinutes: 0,
          lateScaleUps: 0,
          meanRecoveryMinutes: 0,
        },
        violationLimit: 0,
      },
    },
    frontier: {
      hpa: [
        {
          setting: {
            targetUtilization: 0.6,
          },
          replicaHours: 324.77916666666664,
          violationMinutes: 0.5,
          lateScaleUps: 1,
          meanRecoveryMinutes: 0.5,
        },
        {
          setting: {
            targetUtilization: 0.7,
          },
          replicaHours: 281.875,
          violationMinutes: 1.25,
          lateScaleUps: 1,
          meanRecoveryMinutes: 1.25,
        },
        {
          setting: {
            targetUtilization: 0.8,
          },
          replicaHours: 247.37083333333334,
          violationMinutes: 6.5,
          lateScaleUps: 2,
          meanRecoveryMinutes: 3.25,
        },
      ],
      prescaler: [
        {
          setting: {
            quantile: 'mean',
            utilization: 0.5,
            hpaTarget: 0.7,
          },
          replicaHours: 410.3958333333333,
          violationMinutes: 0,
          lateScaleUps: 0,
          meanRecoveryMinutes: 0,
        },
        {
          setting: {
            quantile: 'mean',
            utilization: 0.5,
            hpaTarget: 0.8,
          },
          replicaHours: 409.75416666666666,
          violationMinutes: 0,
          lateScaleUps: 0,
          meanRecoveryMinutes: 0,
        },
      ],
    },
    oracle: {
      setting: {},
      replicaHours: 208.64583333333334,
      violationMinutes: 0,
      lateScaleUps: 0,
      meanRecoveryMinutes: 0,
    },
  },
};
