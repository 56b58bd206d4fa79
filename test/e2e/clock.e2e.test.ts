// The e2e suite's data setup at other instants: the backend child on the suite's clock moved by days, hours and
// months, and what the browser cases rely on checked at each (an anomaly marker for the injected spike, a
// forecast with a band, pending advice for both targets). The browser cases run at E2E_NOW_MS only; this shows
// that instant is not a lucky one, so the suite gives the same result whatever date it runs on.
import fs from 'fs';
import os from 'os';
import path from 'path';

import { RunningBackend, VIEWER_TOKEN, startBackend } from './harness/backend';
import { E2E_NOW_MS, installFixedClock } from './harness/clock';
import {
  ForecastAnswer,
  PANEL_QUERY,
  backendJson,
  panelRange,
  pendingRecommendation,
  scenarioAnomalies,
} from './harness/scenario';
import { ROOT } from './harness/vendor';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

jest.setTimeout(120_000);

const OFFSETS: Array<[string, number]> = [
  ['the suite clock', 0],
  ['9 hours later (night)', 9 * HOUR],
  ['3 days later (a Saturday)', 3 * DAY],
  ['47 days later', 47 * DAY],
  ['160 days earlier', -160 * DAY],
];

describe('installFixedClock', () => {
  const RealDate = Date;
  afterEach(() => {
    globalThis.Date = RealDate;
  });

  it('fixes now (new Date(), Date.now()) and leaves dates built from arguments alone', () => {
    installFixedClock(E2E_NOW_MS);
    expect(Date.now()).toBe(E2E_NOW_MS);
    expect(new Date().getTime()).toBe(E2E_NOW_MS);
    expect(new Date(0).toISOString()).toBe('1970-01-01T00:00:00.000Z');
    expect(new Date('2026-12-07T00:00:00Z').getTime()).toBe(RealDate.UTC(2026, 11, 7));
    expect(Date.UTC(2026, 2, 4, 14)).toBe(E2E_NOW_MS);
    expect(new Date()).toBeInstanceOf(RealDate);
  });

  it('refuses an instant that is not a number', () => {
    expect(() => installFixedClock(Number(undefined))).toThrow('finite instant');
    expect(Date).toBe(RealDate);
  });
});

describe.each(OFFSETS)('the e2e data setup at %s', (_name, offset) => {
  const nowMs = E2E_NOW_MS + offset;
  let workDir: string;
  let backend: RunningBackend | undefined;

  beforeAll(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-e2e-clock-'));
    backend = await startBackend(ROOT, workDir, nowMs);
  });

  afterAll(async () => {
    await backend?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('marks the injected spike as the latest anomaly of the panel range, and forecasts with a band', async () => {
    const range = await panelRange(backend!.url, VIEWER_TOKEN, nowMs);
    expect(range.to).toBe(nowMs);
    expect(range.expectedAnomalies).toBeGreaterThan(0);
    const [spike] = scenarioAnomalies(nowMs / 1000);
    // The latest marker is the injected spike's (its first scored step may end a step after the window opens).
    expect(range.latestAnomaly).toBeGreaterThanOrEqual(spike.start * 1000);
    expect(range.latestAnomaly).toBeLessThanOrEqual(spike.end * 1000 + 600_000);
    expect(range.to - range.from).toBeGreaterThanOrEqual(48 * HOUR);

    const forecast = await backendJson<ForecastAnswer>(
      backend!.url,
      'POST',
      '/api/forecast',
      {
        query: PANEL_QUERY,
        start: Math.floor(range.from / 1000),
        end: Math.floor(range.to / 1000),
        horizon: '1h',
      },
      VIEWER_TOKEN
    );
    expect(forecast.status).toBe(200);
    expect(forecast.body.series).toHaveLength(1);
    const [series] = forecast.body.series;
    expect(series.actual.length).toBeGreaterThan(200);
    // The last actual point is the suite clock's (no data from the future), the forecast starts after it.
    expect(series.actual[series.actual.length - 1][0]).toBeLessThanOrEqual(nowMs);
    expect(series.forecast.length).toBeGreaterThan(0);
    expect(series.forecast[0][0]).toBeGreaterThan(series.actual[series.actual.length - 1][0]);
    // A band the panel can draw: lower ≤ forecast ≤ upper everywhere, wider than a line somewhere.
    expect(series.forecast.every(([, v, lo, hi]) => lo <= v && v <= hi)).toBe(true);
    expect(series.forecast.some(([, , lo, hi]) => hi - lo > 0.01)).toBe(true);
  });

  it('leaves a pending scale-up for both targets (they start at 1 replica), as the Apply cases need', async () => {
    for (const target of ['web', 'api']) {
      const pending = await pendingRecommendation(backend!.url, VIEWER_TOKEN, target);
      expect(pending).toMatchObject({ target, status: 'pending', currentReplicas: 1 });
      expect(pending!.recommendedReplicas).toBeGreaterThan(1);
      // Made by the loop at the injected instant, not the wall clock's (the default 15 min time to live).
      expect(pending!.expiresAt).toBe(nowMs + 900_000);
    }
  });
});
