// The train CLI as a user runs it on a raw Google 2019 instance_usage export split over several files
// (as in ../shared/data/google2019-instance-usage-tasks/job113): it trains and records what it read.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dataDigest } from '../backend/src/data/loaders';

const ROOT = path.resolve(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const CLI = path.join(ROOT, 'backend', 'src', 'cli', 'train.ts');

const HEADER =
  'time,unique_id,collection_id,instance_index,priority,scheduling_class,machine_id,alloc_collection_id,' +
  'alloc_instance_index,collection_type,avg_cpu_usage,avg_memory_usage,max_cpu_usage';

function run(args: string[]) {
  return spawnSync(TSX, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
}

describe('train CLI', () => {
  let dir: string;
  let raw: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-train-'));
    raw = path.join(dir, 'job7');
    fs.mkdirSync(raw);
    // Two tasks, one file each, 3 days at 5 min (time in µs since the trace start, as the export has it).
    for (const task of [1, 2]) {
      const rows = [HEADER];
      for (let i = 1; i <= 3 * 288; i++) {
        const cpu = 0.05 + 0.02 * task * (1 + Math.sin((2 * Math.PI * i) / 288)) + 0.003 * Math.sin(i * 1.3);
        rows.push(
          `${i * 300_000_000},7-${task},7,${task},200,2,1639393793,0,-1,0,${cpu.toFixed(6)},0.002,0.004`
        );
      }
      fs.writeFileSync(
        path.join(raw, `${task}-300000000-${3 * 288 * 300_000_000}.csv`),
        rows.join('\n') + '\n'
      );
    }
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('trains both models on a directory of raw export files and records its digest', () => {
    const out = path.join(dir, 'model');
    const anomalyOut = path.join(dir, 'anomaly');
    const r = run([
      '--data',
      raw,
      '--out',
      out,
      '--anomaly-out',
      anomalyOut,
      '--epochs',
      '1',
      '--units',
      '4',
      '--max-per-series',
      '100',
    ]);
    expect(r.stderr).toMatch(/read .*job7: 2 series/);
    expect(r.status).toBe(0);
    const md = JSON.parse(fs.readFileSync(path.join(out, 'metadata.json'), 'utf8'));
    expect(md.training.datasets).toEqual([{ name: 'job7', sha256: dataDigest(raw), series: 2 }]);
    expect(md.training.seriesWeight).toBe('inverse-change-rms');
    expect(md.version).toMatch(/^\d{4}-\d{2}-\d{2}-[0-9a-f]{8}$/);
    expect(fs.statSync(path.join(out, 'weights.bin')).size).toBeGreaterThan(0);
    const forest = JSON.parse(fs.readFileSync(path.join(anomalyOut, 'metadata.json'), 'utf8'));
    expect(forest.training.datasets).toEqual([
      { name: 'job7', file: 'job7', sha256: dataDigest(raw), series: 2, seriesUsed: 2 },
    ]);
    expect(fs.existsSync(path.join(anomalyOut, 'forest.json'))).toBe(true);
    // Named after the fitted forest: the version's suffix starts its SHA-256.
    expect(forest.version).toBe(`${forest.createdAt.slice(0, 10)}-${forest.forestSha256.slice(0, 8)}`);
  }, 120_000);

  it('leaves labelled series out of the forest, and says so when nothing is left', () => {
    const labelled = path.join(dir, 'labelled.csv');
    const rows = ['series,timestamp,value,label'];
    for (let i = 0; i < 600; i++)
      rows.push(`nab/x,${1_700_000_000 + i * 300},${Math.sin(i / 9)},${i === 300 ? 1 : 0}`);
    fs.writeFileSync(labelled, rows.join('\n') + '\n');
    const anomalyOut = path.join(dir, 'anomaly-labelled');
    const r = run(['--data', labelled, '--only', 'anomaly', '--anomaly-out', anomalyOut]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/1 labelled series left out/);
    expect(r.stderr).toMatch(/anomaly detector: /);
    expect(fs.existsSync(path.join(anomalyOut, 'forest.json'))).toBe(false);
  }, 60_000);

  it('names the input that cannot be read, and a bad option', () => {
    const missing = run(['--data', path.join(dir, 'nope.csv'), '--out', path.join(dir, 'x')]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/nope\.csv/);
    expect(run(['--data', raw, '--only', 'both']).stderr).toMatch(/--only must be forecaster or anomaly/);
    expect(run(['--data', raw, '--seed', '1.5']).stderr).toMatch(/--seed must be an integer/);
    // Options are checked before any file is read or any model fitted: a bad one names itself, not the
    // missing file after it, and nothing is written.
    const anomalyOut = path.join(dir, 'anomaly-untouched');
    const weight = run([
      '--data',
      path.join(dir, 'nope.csv'),
      '--series-weight',
      'loud',
      '--anomaly-out',
      anomalyOut,
    ]);
    expect(weight.status).not.toBe(0);
    expect(weight.stderr).toMatch(/--series-weight must be inverse-change-rms or equal/);
    expect(weight.stderr).not.toMatch(/nope\.csv/);
    expect(fs.existsSync(anomalyOut)).toBe(false);
  }, 60_000);

  it('train:anomaly fits on forecast residuals when the features name them, refuses unknown ones, and leaves the breakout rule out when asked', () => {
    const TRAIN_ANOMALY = path.join(ROOT, 'backend', 'src', 'cli', 'train-anomaly.ts');
    const runAnomaly = (args: string[]) =>
      spawnSync(TSX, [TRAIN_ANOMALY, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    const out = path.join(dir, 'anomaly-residual');
    const r = runAnomaly([
      '--data',
      raw,
      '--features',
      'diff,residual,exceedance',
      '--forecaster',
      path.join(ROOT, 'models', 'forecaster'),
      '--trees',
      '10',
      '--out',
      out,
    ]);
    expect(r.stderr).toMatch(/fitted on \d+ feature rows from 2 segments/);
    expect(r.status).toBe(0);
    const meta = JSON.parse(fs.readFileSync(path.join(out, 'metadata.json'), 'utf8'));
    expect(meta.features.names).toEqual(['diff', 'residual', 'exceedance']);
    expect(meta.training.residuals).toMatch(/^one-step-ahead residuals of forecaster prescaler-lstm@/);
    const bad = runAnomaly(['--data', raw, '--features', 'diff,loudness', '--out', path.join(dir, 'x')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--features: unknown feature "loudness"/);
    // The breakout rule: in the metadata by default (the residual fit above), left out with --breakout off.
    expect(meta.breakout).toEqual({ tolerance: 0.05, lookbackSeconds: 604800, noiseMargin: 0.9 });
    const plain = path.join(dir, 'anomaly-no-breakout');
    const off = runAnomaly(['--data', raw, '--trees', '10', '--breakout', 'off', '--out', plain]);
    expect(off.status).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(plain, 'metadata.json'), 'utf8')).breakout).toBeUndefined();
    expect(JSON.parse(fs.readFileSync(path.join(plain, 'forest.json'), 'utf8')).breakout).toBeUndefined();
    const on = runAnomaly(['--data', raw, '--breakout', 'on', '--out', path.join(dir, 'y')]);
    expect(on.status).toBe(2);
    expect(on.stderr).toMatch(/--breakout takes "off"/);
  }, 120_000);

  it('train:anomaly --nab-corpus takes the threshold from a NAB corpus and records its figures; bad corpus options are refused', () => {
    const TRAIN_ANOMALY = path.join(ROOT, 'backend', 'src', 'cli', 'train-anomaly.ts');
    const runAnomaly = (args: string[]) =>
      spawnSync(TSX, [TRAIN_ANOMALY, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    // A corpus in NAB's layout: two categories, one file each, 6 days at 5 min with a jump at row 1500.
    const corpus = path.join(dir, 'nab');
    const windows: Record<string, string[][]> = {};
    const stamp = (t: number) => new Date(t * 1000).toISOString().slice(0, 19).replace('T', ' ');
    for (const [category, file, phase] of [
      ['catA', 'a.csv', 0],
      ['catB', 'b.csv', 1],
    ] as const) {
      fs.mkdirSync(path.join(corpus, 'data', category), { recursive: true });
      const t0 = 1_700_000_100;
      const rows = ['timestamp,value'];
      for (let i = 0; i < 6 * 288; i++) {
        const v =
          10 + 3 * Math.sin((2 * Math.PI * i) / 288 + phase) + 0.2 * Math.sin(i * 1.7) + (i >= 1500 ? 9 : 0);
        rows.push(`${stamp(t0 + i * 300)},${v.toFixed(4)}`);
      }
      fs.writeFileSync(path.join(corpus, 'data', category, file), rows.join('\n') + '\n');
      windows[`${category}/${file}`] = [
        [`${stamp(t0 + 1450 * 300)}.000000`, `${stamp(t0 + 1550 * 300)}.000000`],
      ];
    }
    fs.mkdirSync(path.join(corpus, 'labels'));
    fs.writeFileSync(path.join(corpus, 'labels', 'combined_windows.json'), JSON.stringify(windows));

    const out = path.join(dir, 'anomaly-corpus');
    const r = runAnomaly([
      '--data',
      raw,
      '--trees',
      '10',
      '--nab-corpus',
      corpus,
      '--seed-spread',
      '1',
      '--out',
      out,
    ]);
    expect(r.stderr).toMatch(/calibrated on 2 NAB series/);
    expect(r.status).toBe(0);
    const meta = JSON.parse(fs.readFileSync(path.join(out, 'metadata.json'), 'utf8'));
    const standard = meta.corpus.results.find((x: { profile: string }) => x.profile === 'standard');
    expect(meta.threshold).toEqual({
      value: Math.min(1, standard.threshold),
      policy: { kind: 'fixed', threshold: Math.min(1, standard.threshold) },
    });
    expect(meta.corpus.results.map((x: { profile: string }) => x.profile)).toEqual([
      'standard',
      'reward_low_FP_rate',
      'reward_low_FN_rate',
    ]);
    expect(standard.perCategory.map((c: { category: string }) => c.category)).toEqual(['catA', 'catB']);
    expect(meta.seedSpread.seeds).toEqual([42, 1]);
    expect(meta.seedSpread.runs).toHaveLength(2);

    for (const [args, message] of [
      [['--seed-spread', '1,2'], /--seed-spread needs --nab-corpus/],
      [['--nab-corpus', corpus, '--seed-spread', '1,x'], /--seed-spread takes integers/],
      [['--nab-corpus', path.join(corpus, 'data')], /no labels\/combined_windows\.json below it/],
      [['--noise-margin', '-1'], /--noise-margin must be a number ≥ 0/],
      [['--max-gap', 'x'], /--max-gap must be seconds ≥ 0/],
      [['--onset', '-5'], /--onset must be seconds ≥ 0/],
      [['--seasonal', 'on'], /--seasonal takes "off"/],
    ] as const) {
      const bad = runAnomaly(['--data', raw, ...args, '--out', path.join(dir, 'refused')]);
      expect([args, bad.status]).toEqual([args, 2]);
      expect(bad.stderr).toMatch(message);
    }
    expect(fs.existsSync(path.join(dir, 'refused'))).toBe(false);
  }, 180_000);
});
