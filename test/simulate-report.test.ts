// `simulate --frontier --report` as a user runs it: a generated canonical CSV in, the real CLI in a child
// process, the page it writes opened in headless Chromium. Both frontiers must be drawn, inside the plot.
// The screenshot lands in test/artifacts (ignored by git); PRESCALER_UPDATE_DOCS=1 also renders a shared
// trace and writes docs/simulation-frontier.png, the picture the docs show.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { CHROMIUM_LAUNCH } from './helpers/chromium';

const ROOT = path.resolve(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const CLI = path.join(ROOT, 'backend', 'src', 'cli', 'simulate.ts');
const ARTIFACTS = path.join(ROOT, 'test', 'artifacts');
const SHARED_TRACE = path.join(ROOT, '..', 'shared', 'data', 'canonical', 'nab-aws-cloudwatch.csv');
const UPDATE_DOCS = process.env.PRESCALER_UPDATE_DOCS === '1';

jest.setTimeout(300_000);

/** Runs the CLI without blocking the test's event loop; resolves with its exit code and output. */
function run(
  args: string[],
  timeoutMs: number
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Two series, 10 days at 300 s: a daily wave with seeded noise (a different amplitude and phase each). */
function fixture(file: string): void {
  let seed = 12345;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const rows = ['series,timestamp,value'];
  const t0 = 1_700_006_400; // 2023-11-15 00:00 UTC
  for (const [name, base, amp, phase] of [
    ['web', 10, 6, 0],
    ['api', 5, 3, 0.1],
  ] as const) {
    for (let i = 0; i < 10 * 288; i++) {
      const wave = Math.sin(2 * Math.PI * (i / 288 - 0.25 - phase));
      const v = base + amp * wave + (rand() - 0.5) * 0.2 * base;
      rows.push(`${name},${t0 + i * 300},${v.toFixed(4)}`);
    }
  }
  fs.writeFileSync(file, rows.join('\n') + '\n');
}

const LAUNCH = CHROMIUM_LAUNCH;

interface Drawn {
  counts: Record<string, number>;
  /** Elements of the frontier chart lying outside its plot frame. */
  outside: string[];
  /** Length in px of each drawn path. */
  lengths: Record<string, number>;
  /** Vertices of HPA's curve. */
  hpaVertices: number;
}

/** What the browser drew, measured from the laid-out SVG (not from the HTML text). */
function measure(page: Page): Promise<Drawn> {
  return page.evaluate(() => {
    const q = (sel: string) => Array.from(document.querySelectorAll(sel));
    const counts: Record<string, number> = {};
    for (const sel of [
      'svg.frontier-chart',
      'svg.sample-day-chart',
      'svg.frontier-chart path.frontier-hpa',
      'svg.frontier-chart path.frontier-prescaler',
      'svg.frontier-chart circle.point-hpa',
      'svg.frontier-chart circle.point-prescaler',
      'svg.frontier-chart path.oracle',
      'svg.frontier-chart line.budget',
      'svg.frontier-chart g.chosen-tuned.chosen-hpa',
      'svg.frontier-chart g.chosen-tuned.chosen-prescaler',
      'svg.frontier-chart g.chosen-default.chosen-hpa',
      'svg.frontier-chart g.chosen-default.chosen-prescaler',
      'svg.frontier-chart .label-hpa',
      'svg.frontier-chart .label-chosen',
      'table.comparisons tbody tr',
    ])
      counts[sel] = q(sel).length;
    const frame = document.querySelector('svg.frontier-chart rect')!.getBoundingClientRect();
    const outside = q(
      'svg.frontier-chart circle.point-hpa, svg.frontier-chart circle.point-prescaler, svg.frontier-chart path.oracle'
    )
      .filter((e) => {
        const b = e.getBoundingClientRect();
        const cx = b.x + b.width / 2;
        const cy = b.y + b.height / 2;
        return !(cx >= frame.left && cx <= frame.right && cy >= frame.top && cy <= frame.bottom);
      })
      .map((e) => e.outerHTML.slice(0, 120));
    const lengths: Record<string, number> = {};
    for (const cls of [
      'frontier-hpa',
      'frontier-prescaler',
      'demand',
      'capacity-hpa',
      'capacity-prescaler',
      'capacity-oracle',
    ])
      lengths[cls] = (document.querySelector(`path.${cls}`) as SVGPathElement).getTotalLength();
    const hpaVertices = (document.querySelector('path.frontier-hpa')!.getAttribute('d')!.match(/[ML]/g) ?? [])
      .length;
    return { counts, outside, lengths, hpaVertices };
  });
}

async function open(browser: Browser, html: string, errors: string[], requests: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1150, height: 900 }, deviceScaleFactor: 1 });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(`file://${html}`, { waitUntil: 'load' });
  return page;
}

describe('simulate --frontier --report in a real browser', () => {
  let dir: string;
  let browser: Browser | undefined;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-simulate-report-'));
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch(LAUNCH);
  });
  afterAll(async () => {
    await browser?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('draws both frontiers, the chosen points, the table and the sample day', async () => {
    const data = path.join(dir, 'waves.csv');
    const out = path.join(dir, 'frontier.html');
    fixture(data);
    const r = await run(['--data', data, '--frontier', '--forecaster', 'seasonal', '--report', out], 240_000);
    expect(r.stderr).toContain(`report written to ${out}`);
    expect(r.status).toBe(0);

    const errors: string[] = [];
    const requests: string[] = [];
    const page = await open(browser!, out, errors, requests);
    const drawn = await measure(page);
    const { 'svg.frontier-chart .label-chosen': chosenLabels, ...counts } = drawn.counts;
    expect(counts).toEqual({
      'svg.frontier-chart': 1,
      'svg.sample-day-chart': 1,
      'svg.frontier-chart path.frontier-hpa': 1,
      'svg.frontier-chart path.frontier-prescaler': 1,
      'svg.frontier-chart circle.point-hpa': 12, // targets 0.40…0.95
      'svg.frontier-chart circle.point-prescaler': 80,
      'svg.frontier-chart path.oracle': 1,
      'svg.frontier-chart line.budget': 1,
      'svg.frontier-chart g.chosen-tuned.chosen-hpa': 1,
      'svg.frontier-chart g.chosen-tuned.chosen-prescaler': 1,
      'svg.frontier-chart g.chosen-default.chosen-hpa': 1,
      'svg.frontier-chart g.chosen-default.chosen-prescaler': 1,
      'svg.frontier-chart .label-hpa': 12,
      'table.comparisons tbody tr': 6,
    });
    // One label per chosen mark: four, fewer where both comparisons chose the same setting.
    expect(chosenLabels).toBeGreaterThanOrEqual(2);
    expect(chosenLabels).toBeLessThanOrEqual(4);
    expect(drawn.hpaVertices).toBe(12);
    // Every curve is drawn with some length, and every point lies inside the plot.
    for (const [cls, len] of Object.entries(drawn.lengths)) expect([cls, len > 50]).toEqual([cls, true]);
    expect(drawn.outside).toEqual([]);
    // Self-contained: the page fetched nothing but itself, and ran without errors.
    expect(requests).toEqual([`file://${out}`]);
    expect(errors).toEqual([]);

    // The page's figures are the CLI's: its table on stdout prints the same savings and intervals.
    const text = (await page.locator('table.comparisons').innerText()).replace(/−/g, '-');
    const savings = [...r.stdout.matchAll(/saving (-?[\d.]+ %) \[(-?[\d.]+ %), (-?[\d.]+ %)\]/g)];
    expect(savings).toHaveLength(2); // tuned and default
    for (const m of savings) {
      expect(text).toContain(m[1]);
      expect(text).toContain(`[${m[2]}, ${m[3]}]`);
    }
    expect(await page.locator('body').innerText()).toContain(
      "Settings were chosen on the validation slice; every figure on this page is the test slice's"
    );

    await page.screenshot({ path: path.join(ARTIFACTS, 'simulate-report.png'), fullPage: true });
    expect(fs.statSync(path.join(ARTIFACTS, 'simulate-report.png')).size).toBeGreaterThan(20_000);
    await page.close();
  });

  (UPDATE_DOCS && fs.existsSync(SHARED_TRACE) ? it : it.skip)(
    'writes docs/simulation-frontier.png from a shared trace (PRESCALER_UPDATE_DOCS=1)',
    async () => {
      // Paths relative to the repository, so the command the page prints reproduces it from a checkout.
      const out = path.join(ARTIFACTS, 'simulation-frontier.html');
      const r = await run(
        [
          '--data',
          path.relative(ROOT, SHARED_TRACE),
          '--frontier',
          '--forecaster',
          'seasonal',
          '--report',
          path.relative(ROOT, out),
        ],
        290_000
      );
      expect(r.status).toBe(0);
      const errors: string[] = [];
      const page = await open(browser!, out, errors, []);
      const drawn = await measure(page);
      expect(drawn.counts['svg.frontier-chart circle.point-hpa']).toBe(12);
      expect(drawn.outside).toEqual([]);
      expect(errors).toEqual([]);
      await page.screenshot({ path: path.join(ROOT, 'docs', 'simulation-frontier.png'), fullPage: true });
      await page.close();
    }
  );
});
