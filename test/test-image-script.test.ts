/**
 * scripts/test-image.sh where no Docker engine can run: it exits 77 (npm test reports the image tests as
 * skipped) and says why, instead of failing or passing silently.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..');
let bin: string;

beforeAll(() => {
  bin = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-no-docker-'));
  // Only what the script needs before it looks for Docker; no dockerd anywhere on this PATH.
  for (const tool of ['dirname', 'id', 'sed', 'seq', 'sleep', 'tail', 'tr'])
    fs.symlinkSync(
      spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(),
      path.join(bin, tool)
    );
});
afterAll(() => fs.rmSync(bin, { recursive: true, force: true }));

function run(): { status: number | null; stderr: string } {
  const r = spawnSync('/bin/bash', ['scripts/test-image.sh'], {
    cwd: root,
    encoding: 'utf8',
    env: { PATH: bin, HOME: os.tmpdir() },
  });
  return { status: r.status, stderr: r.stderr };
}

it('skips with exit 77 and says so where there is no docker CLI', () => {
  const r = run();
  expect(r.status).toBe(77);
  expect(r.stderr).toBe('test:image: skipped: no docker CLI (apt-get install docker.io)\n');
});

it('skips with exit 77 and says so where no engine runs and dockerd is not installed', () => {
  const docker = path.join(bin, 'docker');
  fs.writeFileSync(docker, '#!/bin/sh\necho "Cannot connect to the Docker daemon" >&2\nexit 1\n', {
    mode: 0o755,
  });
  try {
    const r = run();
    expect(r.status).toBe(77);
    expect(r.stderr).toBe(
      'test:image: skipped: no Docker engine is running and dockerd is not installed (apt-get install docker.io)\n'
    );
  } finally {
    fs.rmSync(docker);
  }
});
