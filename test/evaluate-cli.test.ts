// The evaluate CLI as a user runs it: a generated canonical CSV in, the DESIGN §2 JSON shape out.
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
