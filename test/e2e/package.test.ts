/**
 * `npm run package` (scripts/package-plugin.ts) on the built dist/: the zip unpacks with Info-ZIP's
 * unzip, every member sits under one folder named after the app's id (where Grafana's installer puts
 * it: pkg/plugins/storage/fs.go replaces the first path component with the id and reads plugin.json
 * there), its plugin.json files are the built ones with their catalog metadata (links, author,
 * screenshots, logos present), and README, LICENSE and CHANGELOG are inside. A dist/ that is not fully
 * built is refused with the problem named. In the e2e project: npm test builds dist/ just before it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const dist = path.join(root, 'dist');
const ID = 'prescaler-autoscaling-app';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function packageCli(distDir: string, outDir: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/package-plugin.ts', distDir, outDir], {
    cwd: root,
    encoding: 'utf8',
  });
}

/** Info-ZIP's unzip, else Python's zipfile: an implementation other than the one that wrote the zip. */
function unzip(args: 'list' | 'test' | { extractTo: string }, file: string): string {
  const hasUnzip = fs.existsSync('/usr/bin/unzip');
  if (args === 'list')
    return hasUnzip
      ? execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' })
      : execFileSync(
          'python3',
          ['-c', 'import sys,zipfile;print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', file],
          { encoding: 'utf8' }
        );
  if (args === 'test')
    return hasUnzip
      ? execFileSync('unzip', ['-t', file], { encoding: 'utf8' })
      : execFileSync('python3', ['-m', 'zipfile', '-t', file], { encoding: 'utf8' });
  return hasUnzip
    ? execFileSync('unzip', ['-q', file, '-d', args.extractTo], { encoding: 'utf8' })
    : execFileSync('python3', ['-m', 'zipfile', '-e', file, args.extractTo], { encoding: 'utf8' });
}

let work: string;
let zipFile: string;
beforeAll(() => {
  if (!fs.existsSync(path.join(dist, 'plugin.json')))
    throw new Error(
      'dist/ is not built: run `npm run build` first (npm run test:e2e does); this test packages it'
    );
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-package-'));
  const r = packageCli(dist, path.join(work, 'out'));
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  zipFile = r.stdout.trim();
}, 60_000);
afterAll(() => work && fs.rmSync(work, { recursive: true, force: true }));

it('names the zip <id>-<version>.zip, with its sha1 beside it', () => {
  const version = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
  expect(path.basename(zipFile)).toBe(`${ID}-${version}.zip`);
  const sha1 = createHash('sha1').update(fs.readFileSync(zipFile)).digest('hex');
  expect(fs.readFileSync(`${zipFile}.sha1`, 'utf8')).toBe(`${sha1}  ${path.basename(zipFile)}\n`);
});

it('is a valid zip whose every member is inside one folder named after the plugin id', () => {
  expect(unzip('test', zipFile)).toMatch(/No errors detected|^Done testing/m);
  const names = unzip('list', zipFile).split('\n').filter(Boolean);
  expect(names[0]).toBe(`${ID}/`);
  for (const n of names) {
    expect(n.startsWith(`${ID}/`)).toBe(true);
    expect(n.split('/')).not.toContain('..');
    expect(path.isAbsolute(n)).toBe(false);
  }
  // Grafana's installer: the first path component becomes the plugin's folder (removeGitBuildFromName).
  const installed = names.map((n) => n.replace(/^[a-zA-Z0-9_.-]*\//, `${ID}/`));
  expect(installed).toEqual(names);
  expect(names).toEqual(expect.arrayContaining([`${ID}/plugin.json`, `${ID}/module.js`]));
});

it("unpacks to dist/'s files, byte for byte", () => {
  const out = path.join(work, 'plugins');
  unzip({ extractTo: out }, zipFile);
  const files = (dir: string, rel = ''): string[] =>
    fs.readdirSync(path.join(dir, rel)).flatMap((n) => {
      const r = path.join(rel, n);
      return fs.statSync(path.join(dir, r)).isDirectory() ? files(dir, r) : [r];
    });
  const unpacked = files(path.join(out, ID)).sort();
  expect(unpacked).toEqual(files(dist).sort());
  for (const f of unpacked)
    expect([f, fs.readFileSync(path.join(out, ID, f)).equals(fs.readFileSync(path.join(dist, f)))]).toEqual([
      f,
      true,
    ]);
});

describe('what the unpacked plugin tells Grafana and the catalog', () => {
  let dir: string;
  let app: Json;
  beforeAll(() => {
    dir = path.join(work, 'catalog');
    unzip({ extractTo: dir }, zipFile);
    dir = path.join(dir, ID);
    app = JSON.parse(fs.readFileSync(path.join(dir, 'plugin.json'), 'utf8'));
  });

  it('is the app, at the package version, with its data source and panel inside', () => {
    const version = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
    expect([app.id, app.type, app.info.version]).toEqual([ID, 'app', version]);
    expect(app.info.updated).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const nested = app.includes
      .filter((i: Json) => i.path?.endsWith('plugin.json'))
      .map((i: Json) => JSON.parse(fs.readFileSync(path.join(dir, i.path), 'utf8')));
    expect(nested.map((p: Json) => [p.id, p.type, p.info.version])).toEqual([
      ['prescaler-forecast-datasource', 'datasource', version],
      ['prescaler-forecast-panel', 'panel', version],
    ]);
    for (const i of app.includes.filter((x: Json) => x.path?.endsWith('plugin.json')))
      expect(fs.existsSync(path.join(dir, path.dirname(i.path), 'module.js'))).toBe(true);
  });

  it('carries links, an author, logos and screenshots that exist, in every plugin.json', () => {
    const jsons = ['plugin.json', 'datasource/plugin.json', 'panel/plugin.json'];
    for (const rel of jsons) {
      const p = JSON.parse(fs.readFileSync(path.join(dir, rel), 'utf8'));
      const here = path.dirname(path.join(dir, rel));
      expect(p.info.author.name).toEqual(expect.stringMatching(/\S/));
      expect(p.info.author.url).toMatch(/^https:\/\//);
      expect(p.info.links.length).toBeGreaterThanOrEqual(2);
      for (const l of p.info.links)
        expect([l.name, l.url]).toEqual([expect.stringMatching(/\S/), expect.stringMatching(/^https:\/\//)]);
      expect(p.info.links.map((l: Json) => l.name)).toContain('License (Apache-2.0)');
      expect(p.info.screenshots.length).toBeGreaterThan(0);
      for (const f of [
        ...Object.values<string>(p.info.logos),
        ...p.info.screenshots.map((s: Json) => s.path),
      ]) {
        const file = path.join(here, f);
        expect([rel, f, fs.existsSync(file)]).toEqual([rel, f, true]);
      }
      for (const s of p.info.screenshots) {
        // A real picture: the PNG signature, and the docs/ picture it was copied from.
        const png = fs.readFileSync(path.join(here, s.path));
        expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
        const source = path.join(root, 'docs', s.path.replace(/^img\/screenshot-/, ''));
        expect(png.equals(fs.readFileSync(source))).toBe(true);
      }
    }
  });

  it('ships the catalog README (not the repository’s), the Apache-2.0 LICENSE and the CHANGELOG', () => {
    const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
    expect(readme).toBe(fs.readFileSync(path.join(root, 'src/README.md'), 'utf8'));
    expect(readme).toMatch(/grafana cli --pluginUrl/);
    // Catalog pages render the README outside the plugin: images must be absolute URLs.
    for (const m of readme.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)) expect(m[1]).toMatch(/^https:\/\//);
    const license = fs.readFileSync(path.join(dir, 'LICENSE'), 'utf8');
    expect(license).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    expect(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).license).toBe('Apache-2.0');
    expect(fs.readFileSync(path.join(dir, 'CHANGELOG.md'), 'utf8')).toMatch(/^# Changelog/);
  });
});

describe('a dist/ that is not fully built is refused, with the problem named', () => {
  const broken = (edit: (d: string) => void) => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-dist-'));
    fs.cpSync(dist, d, { recursive: true });
    edit(d);
    const r = packageCli(d, path.join(d, 'out'));
    fs.rmSync(d, { recursive: true, force: true });
    return r;
  };

  it('no LICENSE', () => {
    const r = broken((d) => fs.rmSync(path.join(d, 'LICENSE')));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/LICENSE is missing from dist\//);
  });

  it('a plugin.json whose version was never filled in, and a screenshot that is not there', () => {
    const r = broken((d) => {
      const f = path.join(d, 'panel/plugin.json');
      fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace(/"version": "[^"]*"/, '"version": "%VERSION%"'));
      fs.rmSync(path.join(d, 'img/screenshot-panel.png'));
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/panel\/plugin.json: info.version "%VERSION%" is not a version/);
    expect(r.stderr).toMatch(/plugin.json names img\/screenshot-panel.png, which is not in/);
  });

  it('no dist/ at all', () => {
    const r = packageCli(path.join(os.tmpdir(), 'prescaler-no-such-dist'), os.tmpdir());
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/plugin.json is missing: run npm run build first/);
  });
});
