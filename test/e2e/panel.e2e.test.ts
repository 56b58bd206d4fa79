// The built plugin in a real browser: dist/**/module.js loaded through SystemJS next to the real Grafana
// packages, the data source talking to the real backend through a Grafana-style proxy, the panel drawn
// in headless Chromium, and an Apply that must land in the backend's audit log; then the app's root page.
// Every case runs twice: on Grafana 12.4's packages with React 18 and on Grafana 13's with React 19.
import fs from 'fs';
import os from 'os';
import path from 'path';
import { BrowserContext, Page, chromium } from 'playwright-core';
import { DashboardCursorSync } from '@grafana/schema';

import { OPERATOR_TOKEN, RunningBackend, VIEWER_TOKEN, startBackend } from './harness/backend';
import { E2E_NOW_MS } from './harness/clock';
import {
  AnomaliesAnswer,
  ForecastAnswer,
  PANEL_QUERY,
  backendJson as backendAt,
  panelRange,
  pendingRecommendation,
} from './harness/scenario';
import { OrgRole, startHarness } from './harness/server';
import { PACKAGE_SETS, PackageSet, ROOT, buildVendorInChild, uiPublicImg, vendorDir } from './harness/vendor';
import { CHROMIUM_LAUNCH } from '../helpers/chromium';

const DIST = path.join(ROOT, 'dist');
const APP_ID = 'prescaler-autoscaling-app';
const DS_UID = 'prescaler-e2e';
// Screenshots land in test/artifacts (ignored by git); PRESCALER_UPDATE_DOCS=1 writes the README's own copies
// in docs/ instead, so a test run does not rewrite tracked files.
// The docs show the Grafana 12.4 run; the other set's pictures stay in test/artifacts beside it.
function shots(set: PackageSet) {
  const dir = path.join(
    ROOT,
    process.env.PRESCALER_UPDATE_DOCS === '1' && set === PACKAGE_SETS[0] ? 'docs' : 'test/artifacts/e2e'
  );
  const suffix = set === PACKAGE_SETS[0] ? '' : `-${set.id}`;
  return {
    panel: path.join(dir, `panel${suffix}.png`),
    many: path.join(dir, `panel-20-series${suffix}.png`),
    light: path.join(ROOT, 'test/artifacts/e2e', `panel-light${suffix}.png`),
    app: path.join(dir, `app-root${suffix}.png`),
  };
}

jest.setTimeout(180_000);

/** Backend times are Unix ms; a seconds value would be 1000 times too small. */
const ms = (t: number) => (t < 1e11 ? t * 1000 : t);
/** Grafana's default time format in UTC, as the tooltip shows it. */
const utc = (t: number) => new Date(t).toISOString().replace('T', ' ').slice(0, 19);
/** The number in a formatted value such as "2.53" or "1.2 K" (no unit is set on these queries). */
const num = (text: string) => Number(text.replace(/[^\d.eE+-]/g, ''));

describe.each(PACKAGE_SETS.map((set) => [set.title, set] as const))('on the %s', (_title, set) => {
  const SCREENSHOT = shots(set).panel;
  const APP_SCREENSHOT = shots(set).app;

  let workDir: string;
  let backend: RunningBackend | undefined;
  let harness: Awaited<ReturnType<typeof startHarness>> | undefined;
  let browser: BrowserContext | undefined;
  let page: Page;
  let role: OrgRole = 'Editor';
  const pageErrors: string[] = [];

  function backendJson<T>(method: string, p: string, body?: unknown, token?: string) {
    return backendAt<T>(backend!.url, method, p, body, token);
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

  /** The chart's plot area (uPlot's overlay), once the panel drew it. */
  async function plotArea() {
    const over = page.locator('[data-testid="prescaler-chart"] .u-over').first();
    await over.waitFor();
    return (await over.boundingBox())!;
  }

  /** The legend's series names as Grafana's VizLegend lists them. */
  function legendItems() {
    return page.locator('[data-testid="prescaler-chart"] [data-testid^="data-testid VizLegend series"]');
  }

  /** The backend's answer to the data source's last request to `p` (whose body passes `which`), sent again. */
  async function replayed<T>(
    p: string,
    which: (body: Record<string, unknown>) => boolean = () => true
  ): Promise<T> {
    const asked = [...harness!.log]
      .reverse()
      .find((e) => e.kind === 'datasource' && e.path === p && which(JSON.parse(e.body ?? '{}')));
    const answer = await backendJson<T>(
      'POST',
      `/${p.replace(/^backend\//, '')}`,
      JSON.parse(asked!.body!),
      VIEWER_TOKEN
    );
    expect(answer.status).toBe(200);
    return answer.body;
  }

  /** Moves the mouse to (x, y) and reads the tooltip: its time and one row per series. */
  async function hover(x: number, y: number) {
    await page.mouse.move(Math.round(x), Math.round(y));
    const tooltip = page.getByTestId('prescaler-tooltip');
    await tooltip.waitFor();
    return page.evaluate(() => {
      const el = document.querySelector('[data-testid="prescaler-tooltip"]')!;
      const cell = (row: Element, col: string) => row.querySelector(`[data-col="${col}"]`)?.textContent ?? '';
      return {
        time: el.querySelector('[data-testid="prescaler-tooltip-time"]')?.textContent ?? '',
        rows: Array.from(el.querySelectorAll('[data-testid="prescaler-tooltip-row"]')).map((row) => ({
          name: row.getAttribute('data-series') ?? '',
          actual: cell(row, 'actual'),
          forecast: cell(row, 'forecast'),
          band: cell(row, 'band'),
          score: cell(row, 'score'),
        })),
      };
    });
  }

  function timeRangeChanges() {
    return page.evaluate(() =>
      (
        window as unknown as {
          prescalerHarness: { timeRangeChanges: () => Array<{ from: number; to: number }> };
        }
      ).prescalerHarness.timeRangeChanges()
    );
  }

  beforeAll(async () => {
    for (const f of ['plugin.json', 'module.js', 'datasource/module.js', 'panel/module.js']) {
      if (!fs.existsSync(path.join(DIST, f))) {
        throw new Error(`dist/${f} is missing: run \`npm run build\` first (npm run test:e2e does).`);
      }
    }
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-e2e-'));
    // Both at once; wait for both either way so nothing is left running when one fails.
    const [started, vendor] = await Promise.allSettled([
      startBackend(ROOT, workDir, E2E_NOW_MS),
      buildVendorInChild(set),
    ]);
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
      vendorDir: vendorDir(set),
      uiPublicImg: uiPublicImg(set),
      appId: APP_ID,
      datasourceUid: DS_UID,
      // As provisioning/grafana sets them up: the data source with the viewer token, the app with the operator's.
      datasource: { jsonData: { backendUrl: backend!.url }, secureJsonData: { token: VIEWER_TOKEN } },
      app: { jsonData: { backendUrl: backend!.url }, secureJsonData: { token: OPERATOR_TOKEN } },
      role: () => role,
    });
    // A fresh profile per run; playwright takes the user-data-dir here rather than as an argument.
    browser = await chromium.launchPersistentContext(path.join(workDir, 'chromium'), {
      ...CHROMIUM_LAUNCH,
      viewport: { width: 1100, height: 460 },
      deviceScaleFactor: 1,
    });
    // The page lives at the backend's instant too: the panel's "now" line and the app's times read Date.
    await browser.clock.setFixedTime(E2E_NOW_MS);
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
      ({ from, to, expectedAnomalies } = await panelRange(backend!.url, VIEWER_TOKEN, E2E_NOW_MS));
      expect(to).toBe(E2E_NOW_MS);

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
      // The page really ran this set: React's own version string and the bundled Grafana packages.
      const versions = await page.evaluate(() =>
        (
          window as unknown as {
            prescalerHarness: {
              versions: () => Record<'react' | 'reactDom' | 'grafanaData' | 'grafanaUi', string>;
            };
          }
        ).prescalerHarness.versions()
      );
      expect(Number(versions.react.split('.')[0])).toBe(set.expect.react);
      expect(Number(versions.reactDom.split('.')[0])).toBe(set.expect.react);
      expect(Number(versions.grafanaData.split('.')[0])).toBe(set.expect.grafana);
      expect(Number(versions.grafanaUi.split('.')[0])).toBe(set.expect.grafana);
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
      // Each with the data source's viewer token, never the operator's.
      expect(dsCalls.every((e) => e.token === VIEWER_TOKEN)).toBe(true);
      // The panel asked for exactly the range the expected count above was computed on.
      const asked = dsCalls.find((e) => e.path === 'backend/api/anomalies');
      expect(JSON.parse(asked?.body ?? '{}')).toMatchObject({
        start: Math.floor(from / 1000),
        end: Math.floor(to / 1000),
      });
    });

    it("draws with Grafana's time series chart: its legend, and a hover shows time, actual, forecast, band and each anomaly's score", async () => {
      const over = await plotArea();
      // uPlot drew on its canvas, at the size the panel gave it.
      const canvas = page.locator('[data-testid="prescaler-chart"] canvas').first();
      const canvasBox = (await canvas.boundingBox())!;
      expect(canvasBox.width).toBeGreaterThan(700);
      expect(canvasBox.height).toBeGreaterThan(200);
      // One legend entry for the series (its forecast, band and markers hang off it), named by the legend format.
      expect(await legendItems().allTextContents()).toEqual(['web']);

      // The same answers the data source got: its own request bodies, replayed against the backend.
      const answer = await replayed<ForecastAnswer>('backend/api/forecast');
      const anomalies = await replayed<AnomaliesAnswer>('backend/api/anomalies');
      const [series] = answer.series;
      const chartTo = Math.max(to, ...series.forecast.map((p) => ms(p[0])));
      const xOf = (t: number) => over.x + ((t - from) / (chartTo - from)) * over.width;
      const y = over.y + over.height / 2;

      // A forecast point: its time, the forecast and the band, each as the tooltip formats it.
      const f = series.forecast[Math.floor(series.forecast.length / 2)];
      const atF = await hover(xOf(ms(f[0])), y);
      expect(atF.time).toBe(utc(ms(f[0])));
      expect(atF.rows.map((r) => r.name)).toEqual(['web']);
      expect(num(atF.rows[0].forecast)).toBeCloseTo(f[1], 1);
      // No actual in the future, though the last one is only a few pixels away.
      expect(atF.rows[0].actual).toBe('–');
      const [lower, upper] = atF.rows[0].band.split(' – ').map(num);
      expect(lower).toBeCloseTo(f[2], 1);
      expect(upper).toBeCloseTo(f[3], 1);

      // An actual point six hours back.
      const a = series.actual.find((p) => ms(p[0]) >= to - 6 * 3_600_000 && p[1] !== null)!;
      const atA = await hover(xOf(ms(a[0])), y);
      expect(atA.time).toBe(utc(ms(a[0])));
      expect(num(atA.rows[0].actual)).toBeCloseTo(a[1]!, 1);
      expect(atA.rows[0].score).not.toContain('anomaly');

      // Every anomaly the backend found over the range: a marker whose hover gives its score.
      const found = anomalies.series.flatMap((s) => s.anomalies);
      expect(found).toHaveLength(expectedAnomalies);
      expect(expectedAnomalies).toBeGreaterThan(0);
      for (const [t, value, score] of found) {
        const atX = await hover(xOf(ms(t)), y);
        expect(atX.time).toBe(utc(ms(t)));
        expect(atX.rows[0].score).toBe(`${(score * 100).toFixed(2)}% anomaly`);
        expect(num(atX.rows[0].actual)).toBeCloseTo(value, 1);
      }
      await page.mouse.move(0, 0);

      // Wait for the recommendation card to settle (loaded or explained) before the picture.
      await page.getByTestId('prescaler-recommendation').first().waitFor();
      await page.waitForFunction(() => !document.body.textContent?.includes('Loading…'), undefined, {
        timeout: 15_000,
      });
      // The picture with the tooltip open on the forecast: how much, and how sure, half an hour ahead.
      await hover(xOf(ms(f[0])), y);
      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.locator('#panel').screenshot({ path: SCREENSHOT });
      expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
      await page.mouse.move(0, 0);
    });

    it('a drag across the chart asks the dashboard for the selected range (onChangeTimeRange)', async () => {
      const over = await plotArea();
      const answer = await replayed<ForecastAnswer>('backend/api/forecast');
      const chartTo = Math.max(to, ...answer.series[0].forecast.map((p) => ms(p[0])));
      const tOf = (x: number) => from + ((x - over.x) / over.width) * (chartTo - from);
      const before = await timeRangeChanges();
      const x1 = Math.round(over.x + over.width * 0.3);
      const x2 = Math.round(over.x + over.width * 0.6);
      const y = Math.round(over.y + over.height / 2);
      await page.mouse.move(x1, y);
      await page.mouse.down();
      await page.mouse.move(x2, y, { steps: 8 });
      await page.mouse.up();
      await page.waitForFunction(
        (n) =>
          (
            window as unknown as { prescalerHarness: { timeRangeChanges: () => unknown[] } }
          ).prescalerHarness.timeRangeChanges().length > n,
        before.length
      );
      const changes = await timeRangeChanges();
      expect(changes).toHaveLength(before.length + 1);
      const { from: f, to: t } = changes[changes.length - 1];
      // Within two pixels' worth of time of where the mouse went down and up.
      const px = (chartTo - from) / over.width;
      expect(Math.abs(f - tOf(x1))).toBeLessThan(2 * px);
      expect(Math.abs(t - tOf(x2))).toBeLessThan(2 * px);
      expect(t - f).toBeGreaterThan(0.25 * (chartTo - from));
    });

    it('20 series stay readable: a legend entry each, the tooltip lists them all, one card per target in its series colour', async () => {
      // The demo holds 10 series (5 deployments' CPU and memory); each metric at two resolutions (10 and 5
      // minutes) makes 20. Memory in bytes gets its own axis, as in Grafana's Time series panel.
      const expr = '{__name__=~"demo_.*"}';
      const cpu = { expr: 'demo_cpu_usage', horizon: '1h', legendFormat: '{{deployment}} cpu' };
      const memory = {
        expr: 'demo_memory_usage',
        horizon: '1h',
        legendFormat: '{{deployment}} memory',
        unit: 'bytes',
      };
      const result = await runPanel({
        pluginBase: `/public/plugins/${APP_ID}`,
        datasourceUid: DS_UID,
        backendUrl: backend!.url,
        role: 'Editor',
        theme: 'dark',
        variables: {},
        query: cpu,
        moreQueries: [
          memory,
          { ...cpu, step: '5m', legendFormat: '{{deployment}} cpu 5m' },
          { ...memory, step: '5m', legendFormat: '{{deployment}} memory 5m' },
        ],
        from,
        to,
        width: 1060,
        height: 400,
      });
      expect(result.errors).toEqual([]);
      expect(pageErrors).toEqual([]);
      const over = await plotArea();

      const demo = await backendJson<{ series: Array<{ labels: Record<string, string> }> }>(
        'POST',
        '/api/forecast',
        { query: expr, start: Math.floor(to / 1000) - 7200, end: Math.floor(to / 1000) },
        VIEWER_TOKEN
      );
      const names = demo.body.series.map(
        (x) => `${x.labels.deployment} ${x.labels.__name__ === 'demo_cpu_usage' ? 'cpu' : 'memory'}`
      );
      expect(names).toHaveLength(10);
      const expected = [...names, ...names.map((n) => `${n} 5m`)];
      const legend = legendItems();
      const shownNames = await legend.allTextContents();
      expect([...shownNames].sort()).toEqual([...expected].sort());
      // The legend scrolls inside the panel: its last entry can be brought into view there.
      const panelBox = (await page.locator('#panel').boundingBox())!;
      await legend.last().scrollIntoViewIfNeeded();
      const lastBox = (await legend.last().boundingBox())!;
      expect(lastBox.y + lastBox.height).toBeLessThanOrEqual(panelBox.y + panelBox.height + 1);
      expect(lastBox.y).toBeGreaterThanOrEqual(panelBox.y);
      // The chart keeps most of the panel's height.
      expect(over.height).toBeGreaterThan(150);

      // At an instant six hours back every series has its actual value in the tooltip.
      const t = Math.floor((to - 6 * 3_600_000) / 600_000) * 600_000;
      const answer = await replayed<ForecastAnswer>('backend/api/forecast', (b) => b.step === '5m');
      const chartTo = Math.max(to, ...answer.series.flatMap((x) => x.forecast.map((p) => ms(p[0]))));
      const hovered = await hover(
        over.x + ((t - from) / (chartTo - from)) * over.width,
        over.y + over.height / 2
      );
      expect(hovered.time).toBe(utc(t));
      expect(hovered.rows.map((r) => r.name).sort()).toEqual([...expected].sort());
      expect(hovered.rows.every((r) => Number.isFinite(num(r.actual)))).toBe(true);
      await page.mouse.move(0, 0);

      // One card per target the backend has advice for among these series, each with its own Apply.
      const recs = await backendJson<{ recommendations: Array<{ target: string }> }>(
        'GET',
        '/api/recommendations',
        undefined,
        VIEWER_TOKEN
      );
      const deployments = new Set(demo.body.series.map((x) => x.labels.deployment));
      const targets = [...new Set(recs.body.recommendations.map((r) => r.target))].filter((x) =>
        deployments.has(x)
      );
      expect(targets.length).toBeGreaterThan(0);
      await page.waitForFunction(
        (n) =>
          document.querySelectorAll('[data-testid="prescaler-recommendation"][data-target]').length === n,
        targets.length,
        { timeout: 15_000 }
      );
      const cards = page.locator('[data-testid="prescaler-recommendation"]');
      expect(
        (await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-target')))).sort()
      ).toEqual([...targets].sort());
      for (const target of targets) {
        const card = page.locator(`[data-testid="prescaler-recommendation"][data-target="${target}"]`);
        expect(await card.getByRole('button', { name: `Apply recommendation for ${target}` }).count()).toBe(
          1
        );
        // The card's colour is the legend's colour for the target's first series (in the legend's order).
        const first = shownNames.find((n) => n.split(' ')[0] === target)!;
        const legendColor = await page
          .locator(`[data-testid="data-testid VizLegend series ${first}"] [data-testid="series-icon"]`)
          .evaluate((el) => getComputedStyle(el).backgroundColor);
        const cardColor = await card
          .getByTestId('prescaler-card-color')
          .evaluate((el) => getComputedStyle(el).backgroundColor);
        expect(cardColor).toBe(legendColor);
      }
      // The legend toggles series as in Grafana: a click shows only that series (its forecast, band and
      // markers with it), a second click all of them again.
      // The y axis may change width with what is shown, so the plot is measured again for each hover.
      const hoverT = async () => {
        const box = await plotArea();
        return hover(box.x + ((t - from) / (chartTo - from)) * box.width, box.y + box.height / 2);
      };
      const only = shownNames[3];
      const item = page.locator(`[data-testid="data-testid VizLegend series ${only}"] button`);
      await item.click();
      await page.mouse.move(0, 0);
      const isolated = await hoverT();
      expect(isolated.time).toBe(utc(t));
      expect(isolated.rows.map((r) => r.name)).toEqual([only]);
      expect(await legend.count()).toBe(20);
      await page.mouse.move(0, 0);
      await item.click();
      await page.mouse.move(0, 0);
      expect((await hoverT()).rows).toHaveLength(20);
      await page.mouse.move(0, 0);

      const many = shots(set).many;
      fs.mkdirSync(path.dirname(many), { recursive: true });
      await page.locator('#panel').screenshot({ path: many });
      expect(fs.statSync(many).size).toBeGreaterThan(10_000);
    });

    it("shares the crosshair and tooltip with the dashboard's other panels when the dashboard asks for it", async () => {
      const both = async (cursorSync: DashboardCursorSync) => {
        await runPanel({
          pluginBase: `/public/plugins/${APP_ID}`,
          datasourceUid: DS_UID,
          backendUrl: backend!.url,
          role: 'Editor',
          theme: 'dark',
          variables: { deployment: { value: 'web' } },
          query: { expr: PANEL_QUERY, horizon: '1h', legendFormat: '{{deployment}}' },
          from,
          to,
          width: 520,
          height: 300,
          copies: 2,
          cursorSync,
          panelOptions: { showRecommendation: false },
        });
        const first = page.locator('[data-panel-copy="0"] .u-over');
        await first.waitFor();
        await page.locator('[data-panel-copy="1"] .u-over').waitFor();
        const over = (await first.boundingBox())!;
        const answer = await replayed<ForecastAnswer>('backend/api/forecast');
        const chartTo = Math.max(to, ...answer.series[0].forecast.map((p) => ms(p[0])));
        const t = Math.floor((to - 10 * 3_600_000) / 600_000) * 600_000;
        await page.mouse.move(0, 0);
        await page.mouse.move(
          Math.round(over.x + ((t - from) / (chartTo - from)) * over.width),
          Math.round(over.y + over.height / 2)
        );
        await page.getByTestId('prescaler-tooltip').first().waitFor();
        // Let a synced tooltip, if any, render.
        await page.waitForTimeout(300);
        return { t, times: await page.getByTestId('prescaler-tooltip-time').allTextContents() };
      };
      const shared = await both(DashboardCursorSync.Tooltip);
      expect(shared.times).toEqual([utc(shared.t), utc(shared.t)]);
      const alone = await both(DashboardCursorSync.Off);
      expect(alone.times).toEqual([utc(alone.t)]);
      await page.mouse.move(0, 0);
    });

    it('applies the recommendation after confirmation and the backend audit log has the record', async () => {
      // The evaluation loop made it at start-up, on the suite's clock.
      const pending = await pendingRecommendation(backend!.url, VIEWER_TOKEN, 'web');
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
      const apply = page.getByRole('button', { name: 'Apply recommendation for web' });
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
      await plotArea();
      // A picture of the light theme beside the dark one (test/artifacts only).
      await page.waitForFunction(() => !document.body.textContent?.includes('Loading…'), undefined, {
        timeout: 15_000,
      });
      await page.locator('#panel').screenshot({ path: shots(set).light });
      // Grafana's light canvas is near-white; the dark one (#111217) would fail this.
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      const [r, g, b] = (background.match(/\d+/g) ?? []).map(Number);
      expect(Math.min(r, g, b)).toBeGreaterThan(200);
      const apply = page.getByRole('button', { name: 'Apply recommendation for web' });
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

    it('refuses acting through the data source proxy for every role, and lets a Viewer read through the app route', async () => {
      const pending = await pendingRecommendation(backend!.url, VIEWER_TOKEN, 'api');
      expect(pending).toBeDefined();
      const fromPage = (url: string, method: string) =>
        page.evaluate(
          ([u, m]) => fetch(u, { method: m }).then(async (r) => ({ status: r.status, body: await r.text() })),
          [url, method]
        );
      const ds = `/api/datasources/proxy/uid/${DS_UID}/backend`;
      for (const r of ['Viewer', 'Editor', 'Admin'] as const) {
        role = r;
        const before = harness!.log.length;
        // No data source route has these paths and methods, and the data source has no URL of its own: Grafana's
        // reverse proxy has nowhere to send them (502), and the backend never sees them.
        for (const [method, p] of [
          ['POST', `/api/recommendations/${pending!.id}/apply`],
          ['POST', '/api/alerts/webhook'],
          ['GET', '/api/recommendations'],
          ['GET', '/api/forecast'],
        ]) {
          expect({ r, method, p, ...(await fromPage(`${ds}${p}`, method)) }).toEqual({
            r,
            method,
            p,
            status: 502,
            body: '',
          });
        }
        expect(harness!.log.slice(before).every((e) => e.target === undefined)).toBe(true);
      }
      const still = await pendingRecommendation(backend!.url, VIEWER_TOKEN, 'api');
      expect(still?.id).toBe(pending!.id);
      const audit = await backendJson<{ records: Array<{ recommendationId: string }> }>(
        'GET',
        '/api/audit',
        undefined,
        VIEWER_TOKEN
      );
      expect(audit.body.records.some((rec) => rec.recommendationId === pending!.id)).toBe(false);

      // A Viewer reads through the app's GET route (with the app's token); its POST route stays Editor-only.
      role = 'Viewer';
      const before = harness!.log.length;
      const read = await fromPage(`/api/plugin-proxy/${APP_ID}/api/targets`, 'GET');
      expect(read.status).toBe(200);
      expect(JSON.parse(read.body).targets.map((t: { name: string }) => t.name)).toEqual(['web', 'api']);
      expect(harness!.log.slice(before)).toEqual([
        expect.objectContaining({ kind: 'app', method: 'GET', status: 200, token: OPERATOR_TOKEN }),
      ]);
      const apply = await fromPage(
        `/api/plugin-proxy/${APP_ID}/api/recommendations/${pending!.id}/apply`,
        'POST'
      );
      expect(apply).toEqual({ status: 403, body: '{"message":"plugin proxy route access denied"}' });
    });

    it("the app's root page lists the real targets and a pending recommendation, and its Apply is audited", async () => {
      role = 'Editor';
      // The evaluation at start-up left one for `api`, which nothing else in this file applies.
      const pending = await pendingRecommendation(backend!.url, VIEWER_TOKEN, 'api');
      expect(pending).toBeDefined();
      const targets = await backendJson<{
        targets: Array<{ name: string; state: { replicas: number } | null }>;
      }>('GET', '/api/targets', undefined, VIEWER_TOKEN);
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

      const audit = await backendJson<{ records: Array<Record<string, unknown>> }>(
        'GET',
        '/api/audit',
        undefined,
        VIEWER_TOKEN
      );
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
});
