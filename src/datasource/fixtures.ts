// Backend answers shaped exactly like docs/api.md (times in Unix ms), small enough to check by hand: typed with
// the contract's answers, so they stop compiling when the backend's answers change. A gap is a point left out
// (the backend never sends null values), as the actual's at T0 + 2 * STEP.
import type { AnomaliesAnswer, ForecastAnswer } from '../shared/contract';

export const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);
export const STEP = 600_000;

export const forecastResponse: ForecastAnswer = {
  series: [
    {
      labels: { deployment: 'web', namespace: 'default' },
      actual: [
        [T0, 1.0],
        [T0 + STEP, 1.2],
        [T0 + 3 * STEP, 1.6],
      ],
      forecast: [
        [T0 + 4 * STEP, 1.8, 1.5, 2.1],
        [T0 + 5 * STEP, 2.0, 1.6, 2.4],
      ],
      model: 'lstm',
    },
  ],
};

export const anomaliesResponse: AnomaliesAnswer = {
  series: [
    {
      labels: { deployment: 'web', namespace: 'default' },
      scores: [
        [T0, 0.1],
        [T0 + STEP, 0.92],
        [T0 + 2 * STEP, 0.3],
        [T0 + 3 * STEP, 0.2],
      ],
      anomalies: [[T0 + STEP, 1.2, 0.92]],
      threshold: 0.7,
    },
  ],
};
