// Bundles boot.tsx with the real Grafana packages into one script for the harness page (cached across runs),
// once per package set: Grafana 12.4's packages with React 18 (the root node_modules) and Grafana 13's with
// React 19 (the test/e2e/grafana-13 workspace, installed by the same `npm ci`).
import fs from 'fs';
import { spawn } from 'child_process';
import path from 'path';
import webpack from 'webpack';

export const ROOT = path.resolve(__dirname, '../../..');
const ARTIFACTS = path.join(ROOT, 'test/artifacts/e2e');

export interface PackageSet {
  id: 'grafana-12' | 'grafana-13';
  title: string;
  /** The node_modules holding this set's @grafana/* packages, react and react-dom. */
  modules: string;
  /** Major versions the page must report at run time (React's own `version`, the packages' package.json). */
  expect: { react: number; grafana: number };
}

export const PACKAGE_SETS: PackageSet[] = [
  {
    id: 'grafana-12',
    title: 'Grafana 12.4 packages with React 18',
    modules: path.join(ROOT, 'node_modules'),
    expect: { react: 18, grafana: 12 },
  },
  {
    id: 'grafana-13',
    title: 'Grafana 13 packages with React 19',
    modules: path.join(ROOT, 'test/e2e/grafana-13/node_modules'),
    expect: { react: 19, grafana: 13 },
  },
];

export function packageSet(id: string): PackageSet {
  const set = PACKAGE_SETS.find((s) => s.id === id);
  if (!set) {
    throw new Error(`no e2e package set ${id}; known: ${PACKAGE_SETS.map((s) => s.id).join(', ')}`);
  }
  return set;
}

export function vendorDir(set: PackageSet): string {
  return path.join(ARTIFACTS, set.id);
}

/** Where the set's @grafana/ui keeps the icons Grafana serves from public/img. */
export function uiPublicImg(set: PackageSet): string {
  return path.join(set.modules, '@grafana/ui/dist/public/img');
}

function versionOf(set: PackageSet, pkg: string): string {
  return JSON.parse(fs.readFileSync(path.join(set.modules, pkg, 'package.json'), 'utf8')).version;
}

export function vendorConfig(set: PackageSet): webpack.Configuration {
  return {
    mode: 'production',
    context: ROOT,
    target: 'web',
    entry: path.join(__dirname, 'boot.tsx'),
    devtool: false,
    output: { path: vendorDir(set), filename: 'vendor.js', publicPath: '/vendor/', clean: true },
    cache: {
      type: 'filesystem',
      cacheDirectory: path.join(ROOT, `node_modules/.cache/prescaler-e2e-vendor-${set.id}`),
      buildDependencies: { config: [__filename] },
    },
    // Minifying ~10 MB of Grafana code costs more than it saves on localhost.
    optimization: { minimize: false, splitChunks: false, runtimeChunk: false },
    performance: { hints: false },
    plugins: [
      new webpack.DefinePlugin({
        __PACKAGE_SET__: JSON.stringify({
          id: set.id,
          grafanaData: versionOf(set, '@grafana/data'),
          grafanaUi: versionOf(set, '@grafana/ui'),
          grafanaRuntime: versionOf(set, '@grafana/runtime'),
        }),
      }),
    ],
    module: {
      rules: [
        { test: /\.m?js$/, resolve: { fullySpecified: false } },
        {
          test: /\.tsx?$/,
          exclude: /node_modules/,
          use: {
            loader: 'swc-loader',
            options: {
              jsc: {
                target: 'es2020',
                parser: { syntax: 'typescript', tsx: true },
                transform: { react: { runtime: 'automatic' } },
              },
            },
          },
        },
        { test: /\.css$/, type: 'asset/source' },
      ],
    },
    resolve: {
      extensions: ['.tsx', '.ts', '.mjs', '.js'],
      // The set's node_modules first, for every importer: boot.tsx, emotion and the rest get the set's React
      // and @grafana/* (package exports such as @grafana/data/unstable resolve as usual); what the set does
      // not hold comes from the usual node_modules lookup.
      modules:
        set.modules === path.join(ROOT, 'node_modules') ? ['node_modules'] : [set.modules, 'node_modules'],
    },
  };
}

export function buildVendor(set: PackageSet): Promise<string> {
  return new Promise((resolve, reject) => {
    webpack(vendorConfig(set), (err, stats) => {
      if (err) {
        return reject(err);
      }
      if (!stats || stats.hasErrors()) {
        return reject(
          new Error(`vendor bundle (${set.id}) failed:\n${stats?.toString({ all: false, errors: true })}`)
        );
      }
      resolve(path.join(vendorDir(set), 'vendor.js'));
    });
  });
}

/** Runs the build in its own process: webpack's lazy requires do not belong inside jest's module registry. */
export function buildVendorInChild(set: PackageSet): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', __filename, set.id], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) =>
      code === 0
        ? resolve(path.join(vendorDir(set), 'vendor.js'))
        : reject(new Error(`vendor bundle (${set.id}) failed (${code}):\n${output}`))
    );
  });
}

if (require.main === module) {
  const t0 = Date.now();
  const sets = process.argv[2] ? [packageSet(process.argv[2])] : PACKAGE_SETS;
  sets
    .reduce<Promise<unknown>>(
      (prev, set) =>
        prev.then(() =>
          buildVendor(set).then((file) =>
            console.log(`${file} in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
          )
        ),
      Promise.resolve()
    )
    .catch((e) => {
      console.error(e.message);
      process.exit(1);
    });
}
