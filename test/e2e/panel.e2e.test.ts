// The built plugin in a real browser: dist/**/module.js loaded through SystemJS next to the real Grafana
// packages, the data source talking to the real backend through a Grafana-style proxy, the panel drawn
// in headless Chromium, and an Apply that must land in the backend's audit log; then the app's root page.
import fs from 'fs';
import os from 'os';
import path from 'path';
import { BrowserContext, Page, chromium } from 'playwright-core';

import { DEFAULT_STEP } from '../../backend/src/http/validate';
import { OPERATOR_TOKEN, RunningBackend, startBackend } from './harness/backend';
import { startHarness } from './harness/server';
import { ROOT, VENDOR_DIR, buildVendorInChild } from './harness/vendor';

const DIST = path.join(ROOT, 'dist');
const APP_ID = 'prescaler-autoscaling-app';
const DS_UID = 'prescaler-e2e';
// Screenshots land in test/artifacts (ignored by git); PRESCALER_UPDATE_DOCS=1 writes the README's own copies
// in docs/ instead, so a test run does not rewrite tracked files.
const SHOTS = path.join(ROOT, process.env.PRESCALER_UPDATE_DOCS === '1' ? 'docs' : 'test/artifacts/e2e');
const SCREENSHOT = path.join(SHOTS, 'panel.png');
const APP_SCREENSHOT = path.join(SHOTS, 'app-root.png');
const HOUR = 3_600_000;
const STEP_MS = DEFAULT_STEP * 1000; // the data source's default step, equal to the backend's

jest.setTimeout(180_000);

let workDir: string;
let backend: RunningBackend | undefined;
let harness: Awaited<ReturnType<typeof startHarness>> | undefined;
let browser: BrowserContext | undefined;
let page: Page;
let role: 'Viewer' | 'Editor' | 'Admin' = 'Editor';
const pageErrors: string[] = [];

interface AnomaliesAnswer {
  series: Array<{ labels: Record<string, string>; anomalies: Array<[number, number, number]> }>;
}

async function backendJson<T>(
  method: string,
  p: string,
  body?: unknown,
  token?: string
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${backend!.url}${p}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep text
  }
  return { status: res.status, body: parsed as T };
}

async function runPanel(params: Record<string, unknown>) {
  await page.goto(harness!.url, { waitUntil: 'load' });
  await page.waitForFunction(() => 'prescalerHarness' in window, undefined, { timeout: 30_000 });
  return page.evaluate(
    (p) =>
      (
        window as unknown as { prescalerHarness: { run: (x: unknown) => Promise<unknown> } }
      ).prescalerHarness.run(p),
    params
  ) as Promise<{
    appPlugin: boolean;
    health: { status: string; message: string };
    frames: Array<{ kind?: string; length: number }>;
    errors: string[];
  }>;
}

async function runApp(params: Record<string, unknown>) {
  await page.goto(harness!.url, { waitUntil: 'load' });
  await page.waitForFunction(() => 'prescalerHarness' in window, undefined, { timeout: 30_000 });
  return page.evaluate(
    (p) =>
      (
        window as unknown as { prescalerHarness: { runApp: (x: unknown) => Promise<unknown> } }
      ).prescalerHarness.runApp(p),
    params
  ) as Promise<{ root: boolean }>;
}

beforeAll(async () => {
  for (const f of ['plugin.json', 'module.js', 'datasource/module.js', 'panel/module.js']) {
    if (!fs.existsSync(path.join(DIST, f))) {
      throw new Error(`dist/${f} is missing: run \`npm run build\` first (npm run test:e2e does).`);
    }
  }
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-e2e-'));
  // Both at once; wait for both either way so nothing is left running when one fails.
  const [started, vendor] = await Promise.allSettled([startBackend(ROOT, workDir), buildVendorInChild()]);
  if (started.status === 'fulfilled') {
    backend = started.value;
  }
  for (const r of [started, vendor]) {
    if (r.status === 'rejected') {
      throw r.reason;
    }
  }
  harness = await startHarness({
    distDir: DIST,
    vendorDir: VENDOR_DIR,
    appId: APP_ID,
    datasourceUid: DS_UID,
    datasource: { jsonData: { backendUrl: backend!.url }, secureJsonData: { token: OPERATOR_TOKEN } },
    app: { jsonData: { backendUrl: backend!.url }, secureJsonData: { token: OPERATOR_TOKEN } },
    role: () => role,
  });
  // A fresh profile per run; playwright takes the user-data-dir here rather than as an argument.
  browser = await chromium.launchPersistentContext(path.join(workDir, 'chromium'), {
    executablePath: '/usr/bin/chromium',
    viewport: { width: 1100, height: 460 },
    deviceScaleFactor: 1,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on('pageerror', (e) => pageErrors.push(e.message));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await harness?.close();
  await backend?.stop();
  if (workDir) {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
});

describe('Prescaler plugin in Chromium against the real backend', () => {
  let from: number;
  let to: number;
  let expectedAnomalies: number;

  it('loads the app, data source and panel modules through SystemJS and passes the health check', async () => {
    to = Date.now();
    // Two days: the detector needs ~32 h of history inside the queried range before it scores a point. Reach
    // back further if that is what it takes to include the backend's latest anomaly for web.
    const probe = await backendJson<AnomaliesAnswer>('POST', '/api/anomalies', {
      query: 'demo_cpu_usage{deployment="web"}',
      start: Math.floor((to - 7 * 24 * HOUR) / 1000),
      end: Math.floor(to / 1000),
    });
    if (probe.status !== 200) {
      throw new Error(
        `the backend's POST /api/anomalies answered ${probe.status}: ${JSON.stringify(probe.body)}`
      );
    }
    const latest = Math.max(...probe.body.series.flatMap((s) => s.anomalies.map((a) => a[0])));
    from = Number.isFinite(latest) ? Math.min(to - 48 * HOUR, latest - 2 * HOUR) : to - 48 * HOUR;
    // The data source starts its range on a multiple of the step; start there too, or the probe below
    // scores a slightly longer history than the panel and may count a different set of anomalies.
    from = Math.floor(from / STEP_MS) * STEP_MS;
    // Scores depend on the queried range, so ask for exactly the range the data source will send.
    const same = await backendJson<AnomaliesAnswer>('POST', '/api/anomalies', {
      query: 'demo_cpu_usage{deployment="web"}',
      start: Math.floor(from / 1000),
      end: Math.floor(to / 1000),
    });
    expect(same.status).toBe(200);
    expectedAnomalies = same.body.series.flatMap((s) => s.anomalies).length;

    const result = await runPanel({
      pluginBase: `/public/plugins/${APP_ID}`,
      datasourceUid: DS_UID,
      backendUrl: backend!.url,
      role: 'Editor',
      theme: 'dark',
      variables: { deployment: { value: 'web' } },
      query: {
        expr: 'demo_cpu_usage{deployment="$deployment"}',
        horizon: '1h',
        legendFormat: '{{deployment}}',
        frames: ['actual', 'forecast', 'band', 'anomalies'],
      },
      from,
      to,
      width: 1060,
      height: 400,
    });
    expect(pageErrors).toEqual([]);
    expect(result.appPlugin).toBe(true);
    expect(result.health).toMatchObject({ status: 'success' });
    expect(result.health.message).toMatch(/^Prescaler backend is ok: demo source/);
    expect(result.errors).toEqual([]);
    expect(result.frames.map((f) => f.kind)).toEqual(['actual', 'forecast', 'band', 'anomalies']);
    // Both data source calls went through the proxy route with the token added there, never by the page.
    const dsCalls = harness!.log.filter((e) => e.kind === 'datasource');
    expect(dsCalls.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual(
      expect.arrayContaining([
        'GET backend/api/health 200',
        'POST backend/api/forecast 200',
        'POST backend/api/anomalies 200',
      ])
    );
    expect(dsCalls.every((e) => e.authorization)).toBe(true);
    // The panel asked for exactly the range the expected count above was computed on.
    const asked = dsCalls.find((e) => e.path === 'backend/api/anomalies');
    expect(JSON.parse(asked?.body ?? '{}')).toMatchObject({
      start: Math.floor(from / 1000),
      end: Math.floor(to / 1000),
    });
  });

  it('draws the forecast band, the forecast line and one marker per anomaly, and saves a screenshot', async () => {
    const band = page.getByTestId('prescaler-band');
    await band.waitFor();
    const d = (await band.getAttribute('d')) ?? '';
    expect(d).toMatch(/^M[\d.-]+,[\d.-]+(L[\d.-]+,[\d.-]+)+Z/);
    const box = await band.boundingBox();
    expect(box!.width).toBeGreaterThan(5);
    expect(box!.height).toBeGreaterThan(1);
    expect(await page.getByTestId('prescaler-forecast').count()).toBe(1);
    expect(await page.getByTestId('prescaler-actual').count()).toBe(1);
    expect(await page.getByTestId('prescaler-now').count()).toBe(1);
    expect(expectedAnomalies).toBeGreaterThan(0);
    expect(await page.getByTestId('prescaler-anomaly').count()).toBe(expectedAnomalies);
    // Wait for the recommendation card to settle (loaded or explained) before the picture.
    await page.getByTestId('prescaler-recommendation').waitFor();
    await page.waitForFunction(() => !document.body.textContent?.includes('Loading…'), undefined, {
      timeout: 15_000,
    });
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.locator('#panel').screenshot({ path: SCREENSHOT });
    expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
  });

  it('applies the recommendation after confirmation and the backend audit log has the record', async () => {
    const recs = await backendJson<{
      recommendations: Array<{
        id: string;
        target: string;
        status: string;
        currentReplicas: number;
        recommendedReplicas: number;
      }>;
    }>('GET', '/api/recommendations', undefined, OPERATOR_TOKEN);
    if (recs.status === 404) {
      throw new Error(
        'The backend has no GET /api/recommendations yet (404): the Apply flow cannot be exercised until the recommendations/apply/audit endpoints exist.'
      );
    }
    expect(recs.status).toBe(200);
    // The evaluation loop produces the recommendation; give it a few seconds after start-up.
    let pending = recs.body.recommendations.find((r) => r.target === 'web' && r.status === 'pending');
    for (let i = 0; !pending && i < 40; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const again = await backendJson<typeof recs.body>(
        'GET',
        '/api/recommendations',
        undefined,
        OPERATOR_TOKEN
      );
      pending = again.body.recommendations.find((r) => r.target === 'web' && r.status === 'pending');
    }
    expect(pending).toBeDefined();

    // Reload so the card shows the recommendation that now exists.
    await runPanel({
      pluginBase: `/public/plugins/${APP_ID}`,
      datasourceUid: DS_UID,
      backendUrl: backend!.url,
      role: 'Editor',
      theme: 'dark',
      variables: { deployment: { value: 'web' } },
      query: {
        expr: 'demo_cpu_usage{deployment="$deployment"}',
        horizon: '1h',
        legendFormat: '{{deployment}}',
      },
      from,
      to,
      width: 1060,
      height: 400,
    });
    const apply = page.getByRole('button', { name: 'Apply recommendation' });
    await apply.waitFor();
    expect(await apply.isEnabled()).toBe(true);
    await apply.click();
    const summary = page.getByTestId('prescaler-apply-summary');
    await summary.waitFor();
    expect(await summary.textContent()).toContain(
      `${pending!.currentReplicas} → ${pending!.recommendedReplicas}`
    );
    await page.getByRole('button', { name: `Scale to ${pending!.recommendedReplicas}` }).click();

    const shown = page.getByTestId('prescaler-audit-record').first();
    await shown.waitFor({ timeout: 15_000 });
    const applyCall = harness!.log.find((e) => e.kind === 'app' && e.method === 'POST');
    expect(applyCall).toMatchObject({
      path: `api/recommendations/${pending!.id}/apply`,
      target: `${backend!.url}/api/recommendations/${pending!.id}/apply`,
      authorization: true,
    });
    expect(applyCall!.status).toBeLessThan(300);

    const audit = await backendJson<{ records: Array<Record<string, unknown>> }>(
      'GET',
      '/api/audit',
      undefined,
      OPERATOR_TOKEN
    );
    expect(audit.status).toBe(200);
    const record = audit.body.records.find((r) => r.recommendationId === pending!.id);
    expect(record).toMatchObject({
      target: 'web',
      // The backend names the actor after the token Grafana sent (the app's operator token "grafana").
      actor: expect.stringContaining('grafana'),
      fromReplicas: pending!.currentReplicas,
      toReplicas: pending!.recommendedReplicas,
      dryRun: true,
    });
    expect(await shown.textContent()).toContain(String(record!.id));
  });

  it('shows a Viewer the Apply button disabled with the reason, in the light theme', async () => {
    role = 'Viewer';
    await runPanel({
      pluginBase: `/public/plugins/${APP_ID}`,
      datasourceUid: DS_UID,
      backendUrl: backend!.url,
      role: 'Viewer',
      theme: 'light',
      variables: { deployment: { value: 'web' } },
      query: { expr: 'demo_cpu_usage{deployment="$deployment"}' },
      from,
      to,
      width: 1060,
      height: 400,
    });
    await page.getByTestId('prescaler-band').waitFor();
    // Grafana's light canvas is near-white; the dark one (#111217) would fail this.
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const [r, g, b] = (background.match(/\d+/g) ?? []).map(Number);
    expect(Math.min(r, g, b)).toBeGreaterThan(200);
    const apply = page.getByRole('button', { name: 'Apply recommendation' });
    const blocked = page.getByTestId('prescaler-apply-blocked');
    await apply.waitFor();
    expect(await apply.isDisabled()).toBe(true);
    // The role is checked before the recommendation's own state, so this holds even after the apply above.
    expect(await blocked.textContent()).toBe(
      'Applying needs the Editor role in this organization; you are a Viewer.'
    );
    // And Grafana's reqRole would refuse the apply route for this user anyway.
    const status = await page.evaluate(
      (id) =>
        fetch(`/api/plugin-proxy/${id}/api/recommendations/x/apply`, { method: 'POST' }).then(
          (r) => r.status
        ),
      APP_ID
    );
    expect(status).toBe(403);
  });

  it("the app's root page lists the real targets and a pending recommendation, and its Apply is audited", async () => {
    role = 'Editor';
    type Rec = {
      id: string;
      target: string;
      currentReplicas: number;
      recommendedReplicas: number;
      reason: string;
    };
    // The evaluation at start-up left one for `api`, which nothing else in this file applies.
    let pending: Rec | undefined;
    for (let i = 0; !pending && i < 40; i++) {
      const recs = await backendJson<{ recommendations: Rec[] }>(
        'GET',
        '/api/recommendations?status=pending'
      );
      expect(recs.status).toBe(200);
      pending = recs.body.recommendations.find((r) => r.target === 'api');
      if (!pending) {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    expect(pending).toBeDefined();
    const targets = await backendJson<{
      targets: Array<{ name: string; state: { replicas: number } | null }>;
    }>('GET', '/api/targets');
    expect(targets.body.targets.map((t) => t.name)).toEqual(['web', 'api']);

    await page.setViewportSize({ width: 1280, height: 900 });
    const result = await runApp({
      pluginBase: `/public/plugins/${APP_ID}`,
      backendUrl: backend!.url,
      role: 'Editor',
      theme: 'dark',
      width: 1240,
    });
    expect(result.root).toBe(true);

    for (const t of targets.body.targets) {
      const row = page.getByTestId(`prescaler-target-${t.name}`);
      await row.waitFor({ timeout: 15_000 });
      expect(await row.locator('td').nth(1).textContent()).toMatch(new RegExp(`^${t.state!.replicas}`));
    }
    const row = page.getByTestId(`prescaler-recommendation-${pending!.id}`);
    await row.waitFor();
    const text = (await row.textContent()) ?? '';
    expect(text).toContain(pending!.reason);
    expect(text).toContain(`${pending!.currentReplicas} → ${pending!.recommendedReplicas}`);
    const calls = harness!.log.filter((e) => e.kind === 'app' && e.method === 'GET').map((e) => e.path);
    expect(calls).toEqual(expect.arrayContaining(['api/targets', 'api/recommendations', 'api/audit']));

    // The picture for docs/grafana-app.md: both targets, and `api`'s advice with its Apply button.
    await page.locator('#app').screenshot({ path: APP_SCREENSHOT });
    expect(fs.statSync(APP_SCREENSHOT).size).toBeGreaterThan(10_000);

    const before = harness!.log.length;
    await page.getByRole('button', { name: 'Apply recommendation for api' }).click();
    await page.getByTestId('prescaler-apply-summary').waitFor();
    await page.getByRole('button', { name: `Scale to ${pending!.recommendedReplicas}` }).click();
    const shown = page.getByTestId('prescaler-audit-record');
    await shown.waitFor({ timeout: 15_000 });
    const applyCall = harness!.log.slice(before).find((e) => e.kind === 'app' && e.method === 'POST');
    expect(applyCall).toMatchObject({
      path: `api/recommendations/${pending!.id}/apply`,
      authorization: true,
    });
    expect(applyCall!.status).toBeLessThan(300);

    const audit = await backendJson<{ records: Array<Record<string, unknown>> }>('GET', '/api/audit');
    const record = audit.body.records.find((r) => r.recommendationId === pending!.id);
    expect(record).toMatchObject({
      target: 'api',
      actor: expect.stringContaining('grafana'),
      fromReplicas: pending!.currentReplicas,
      toReplicas: pending!.recommendedReplicas,
      dryRun: true,
    });
    expect(await shown.textContent()).toContain(String(record!.id));

    // Behind the modal the page fetched again: the record is in its audit table, the advice left the list.
    await page.getByRole('button', { name: 'Close' }).last().click();
    await page.getByTestId(`prescaler-audit-${record!.id}`).waitFor({ timeout: 15_000 });
    expect(await page.getByTestId(`prescaler-recommendation-${pending!.id}`).count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
