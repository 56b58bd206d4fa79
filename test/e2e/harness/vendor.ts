// Bundles boot.tsx with the real Grafana packages into one script for the harness page (cached across runs).
import { spawn } from 'child_process';
import path from 'path';
import webpack from 'webpack';

export const ROOT = path.resolve(__dirname, '../../..');
export const VENDOR_DIR = path.join(ROOT, 'test/artifacts/e2e');

export function vendorConfig(): webpack.Configuration {
  return {
    mode: 'production',
    context: ROOT,
    target: 'web',
    entry: path.join(__dirname, 'boot.tsx'),
    devtool: false,
    output: { path: VENDOR_DIR, filename: 'vendor.js', publicPath: '/vendor/', clean: true },
    cache: {
      type: 'filesystem',
      cacheDirectory: path.join(ROOT, 'node_modules/.cache/prescaler-e2e-vendor'),
      buildDependencies: { config: [__filename] },
    },
    // Minifying ~10 MB of Grafana code costs more than it saves on localhost.
    optimization: { minimize: false, splitChunks: false, runtimeChunk: false },
    performance: { hints: false },
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
    resolve: { extensions: ['.tsx', '.ts', '.mjs', '.js'] },
  };
}

export function buildVendor(): Promise<string> {
  return new Promise((resolve, reject) => {
    webpack(vendorConfig(), (err, stats) => {
      if (err) {
        return reject(err);
      }
      if (!stats || stats.hasErrors()) {
        return reject(new Error(`vendor bundle failed:\n${stats?.toString({ all: false, errors: true })}`));
      }
      resolve(path.join(VENDOR_DIR, 'vendor.js'));
    });
  });
}

/** Runs the build in its own process: webpack's lazy requires do not belong inside jest's module registry. */
export function buildVendorInChild(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', __filename], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) =>
      code === 0
        ? resolve(path.join(VENDOR_DIR, 'vendor.js'))
        : reject(new Error(`vendor bundle failed (${code}):\n${output}`))
    );
  });
}

if (require.main === module) {
  const t0 = Date.now();
  buildVendor().then(
    (file) => console.log(`${file} in ${((Date.now() - t0) / 1000).toFixed(1)} s`),
    (e) => {
      console.error(e.message);
      process.exit(1);
    }
  );
}
