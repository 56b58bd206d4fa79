// The evaluate CLI as a user runs it: a generated canonical CSV in, the docs/api.md JSON shape out.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const CLI = path.join(ROOT, 'backend', 'src', 'cli', 'evaluate.ts');

function run(args: string[]) {
  return spawnSync(TSX, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
}

describe('evaluate CLI', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-evaluate-'));
    const rows = ['series,timestamp,value'];
    for (const [name, amp] of [
      ['web', 2],
      ['api', 5],
    ] as const) {
      for (let i = 0; i < 1000; i++) {
        const v = 10 + amp * Math.sin((2 * Math.PI * i) / 144) + Math.sin(i * 1.7);
        rows.push(`${name},${1_700_000_400 + i * 600},${v.toFixed(4)}`);
      }
    }
    fs.writeFileSync(path.join(dir, 'tiny.csv'), rows.join('\n') + '\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints exactly {dataset, step, results} with --json and writes the report', () => {
    const report = path.join(dir, 'out.html');
    const r = run([
      '--data',
      path.join(dir, 'tiny.csv'),
      '--json',
      '--models',
      'persistence,ar',
      '--report',
      report,
    ]);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['dataset', 'step', 'results']);
    expect(out.dataset).toBe('tiny');
    expect(out.step).toBe(600);
    expect(out.results).toHaveLength(12);
    expect(Object.keys(out.results[0])).toEqual([
      'model',
      'horizon',
      'rmse',
      'rmse_pooled',
      'mae',
      'accuracy',
      'n',
    ]);
    expect(out.results.map((x: { horizon: number }) => x.horizon).slice(0, 6)).toEqual([
      600, 1200, 1800, 2400, 3000, 3600,
    ]);
    // 1000 points per series: 800 for training, origins 800..998, n = 2 × (200 − h).
    expect(out.results[5]).toMatchObject({ model: 'persistence', n: 2 * 194 });
    expect(r.stderr).toMatch(/2 series scored/);
    expect(fs.readFileSync(report, 'utf8')).toContain('<svg');
  });

  it('prints a table without --json and fails clearly on bad input', () => {
    const ok = run(['--data', path.join(dir, 'tiny.csv'), '--models', 'persistence', '--step', '10m']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/persistence\s+60 min\s+\d\.\d{4}/);

    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, 'when,what\n1,2\n');
    const r = run(['--data', bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown format/);
    expect(run(['--data', path.join(dir, 'tiny.csv'), '--models', 'prophet']).stderr).toMatch(
      /unknown model/
    );
    expect(run([]).stderr).toMatch(/--data is required/);
  });

  it('fails, rather than leaving the LSTM out, when the model cannot be scored', () => {
    const tiny = path.join(dir, 'tiny.csv');
    const missing = run(['--data', tiny, '--model-dir', path.join(dir, 'no-such-model'), '--json']);
    expect(missing.status).not.toBe(0);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/the LSTM cannot be scored: .*metadata\.json[\s\S]*--models persistence/);
    // The shipped model runs at 600 s: another step cannot score it.
    const step = run(['--data', tiny, '--step', '5m', '--json']);
    expect(step.status).not.toBe(0);
    expect(step.stderr).toMatch(/the LSTM cannot be scored/);
  });
});

// evaluate:anomaly as a user runs it on NAB's layout: generated <category>/<file>.csv data, windows and
// reference results in, the docs/api.md JSON shape and the tables out.
describe('evaluate:anomaly CLI', () => {
  const ANOMALY_CLI = path.join(ROOT, 'backend', 'src', 'cli', 'evaluate-anomaly.ts');
  const runAnomaly = (args: string[]) =>
    spawnSync(TSX, [ANOMALY_CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  const STEP = 300;
  const N = 600;
  const T0 = Date.UTC(2014, 1, 14, 14, 30) / 1000;
  const nabTime = (t: number) => new Date(t * 1000).toISOString().slice(0, 19).replace('T', ' ');
  // Three files in two categories, each with one window and a spike at its start.
  const FILES = [
    { category: 'realDemo', file: 'a', window: [400, 439] },
    { category: 'realDemo', file: 'b', window: [300, 339] },
    { category: 'artificialDemo', file: 'c', window: [450, 489] },
  ];
  let dir: string;
  let data: string;
  let windows: string;
  let refs: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-evaluate-anomaly-'));
    data = path.join(dir, 'data');
    refs = path.join(dir, 'results');
    const win: Record<string, string[][]> = {};
    const canonical = ['series,timestamp,value,label'];
    FILES.forEach(({ category, file, window: [lo, hi] }, k) => {
      const values = Array.from(
        { length: N },
        (_, i) => 40 + 5 * Math.sin((2 * Math.PI * i) / 288) + Math.sin(i * (1.3 + k))
      );
      values[lo] += 25;
      fs.mkdirSync(path.join(data, category), { recursive: true });
      const rows = values.map((v, i) => `${nabTime(T0 + i * STEP)},${v.toFixed(3)}`);
      fs.writeFileSync(
        path.join(data, category, `${file}.csv`),
        ['timestamp,value', ...rows].join('\n') + '\n'
      );
      win[`${category}/${file}.csv`] = [[nabTime(T0 + lo * STEP), nabTime(T0 + hi * STEP)]];
      values.forEach((v, i) =>
        canonical.push(`demo/${file},${T0 + i * STEP},${v.toFixed(3)},${i >= lo && i <= hi ? 1 : 0}`)
      );
      for (const [det, score] of [
        ['perfect', (i: number) => (i === lo ? 1 : 0)],
        ['null', () => 0.5],
      ] as const) {
        fs.mkdirSync(path.join(refs, det, category), { recursive: true });
        const out = values.map((_, i) => `${nabTime(T0 + i * STEP)},${score(i)}`);
        fs.writeFileSync(
          path.join(refs, det, category, `${det}_${file}.csv`),
          ['timestamp,anomaly_score', ...out].join('\n') + '\n'
        );
      }
    });
    windows = path.join(dir, 'combined_windows.json');
    fs.writeFileSync(windows, JSON.stringify(win));
    fs.writeFileSync(path.join(dir, 'labelled.csv'), canonical.join('\n') + '\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints {results: [{detector, profile, score, heldOut}]} with --json, broken down on request', () => {
    const r = runAnomaly(['--data', data, '--windows', windows, '--reference-dir', refs, '--json']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['results']);
    expect(out.results).toHaveLength(3 * 3);
    for (const row of out.results)
      expect(Object.keys(row)).toEqual(['detector', 'profile', 'score', 'heldOut']);
    const standard = (d: string) =>
      out.results.find(
        (x: { detector: string; profile: string }) => x.detector === d && x.profile === 'standard'
      );
    expect(standard('perfect')).toMatchObject({ score: 100, heldOut: 100 });
    expect(standard('null')).toMatchObject({ score: 0, heldOut: 0 });
    expect(standard('prescaler-iforest')).toBeDefined();
    expect(r.stderr).toMatch(
      /scored 3 detectors on 3 files in \d+ ms \(read \d+ ms, ours \d+ ms, references \d+ ms, scoring \d+ ms\)/
    );
    expect(r.stderr).toMatch(/leave one category out, 2 categories/);

    const broken = runAnomaly([
      '--data',
      data,
      '--windows',
      windows,
      '--reference-dir',
      refs,
      '--json',
      '--per-file',
      '--per-category',
    ]);
    expect(broken.status).toBe(0);
    const row = JSON.parse(broken.stdout).results.find((x: { detector: string }) => x.detector === 'perfect');
    expect(Object.keys(row)).toEqual(['detector', 'profile', 'score', 'heldOut', 'files', 'categories']);
    expect(row.files.map((f: { name: string }) => f.name)).toEqual([
      'artificialDemo/c.csv',
      'realDemo/a.csv',
      'realDemo/b.csv',
    ]);
    expect(row.categories).toEqual([
      expect.objectContaining({ category: 'artificialDemo', files: 1, windows: 1, score: 100, heldOut: 100 }),
      expect.objectContaining({ category: 'realDemo', files: 2, windows: 2, score: 100, heldOut: 100 }),
    ]);
  });

  it('prints the tables, and says how the held-out score was held out', () => {
    const r = runAnomaly([
      '--data',
      data,
      '--windows',
      windows,
      '--reference-dir',
      refs,
      '--per-category',
      '--per-file',
    ]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^held-out: each file at the threshold swept on the other categories \(leave one category out, 2 categories\)/
    );
    expect(r.stdout).toMatch(/perfect\s+standard\s+100\.0\s+100\.0/);
    expect(r.stdout).toMatch(/standard profile per category/);
    expect(r.stdout).toMatch(/realDemo\s+2\s+2\s.*100\.0 \/ 100\.0/);
    expect(r.stdout).toMatch(/realDemo\/b\.csv\s+1\s/);
    // A canonical CSV is one category: held out by file, and it says so.
    const one = runAnomaly(['--data', path.join(dir, 'labelled.csv'), '--reference-dir', refs]);
    expect(one.status).toBe(0);
    expect(one.stdout).toMatch(/leave one file out: the data has one category/);
  });

  it('fails clearly on bad input', () => {
    const partial = path.join(dir, 'partial-windows.json');
    const win = JSON.parse(fs.readFileSync(windows, 'utf8'));
    delete win['realDemo/b.csv'];
    fs.writeFileSync(partial, JSON.stringify(win));
    const r = runAnomaly(['--data', data, '--windows', partial, '--json']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/error: .*partial-windows\.json: no windows for realDemo\/b\.csv/);
    const noWindows = runAnomaly(['--data', data]);
    expect(noWindows.status).toBe(1);
    expect(noWindows.stderr).toMatch(/give NAB's --windows combined_windows\.json/);
    expect(runAnomaly(['--data', data, '--per-categories']).stderr).toMatch(
      /unknown argument --per-categories/
    );
  });
});
