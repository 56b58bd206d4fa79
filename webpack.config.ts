// Builds src/ into dist/ the way @grafana/create-plugin does: one AMD module.js per plugin.json
// (app at the root, nested plugins in their folders), Grafana's shared packages left external.
import fs from 'fs';
import path from 'path';
import CopyWebpackPlugin from 'copy-webpack-plugin';
import type { Configuration, ExternalItemFunctionData } from 'webpack';

const SOURCE_DIR = path.resolve(__dirname, 'src');
const DIST_DIR = path.resolve(__dirname, 'dist');

function readJson(file: string) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** Every folder under src/ holding a plugin.json and a module.ts(x) becomes an entry: module, datasource/module, … */
export function findEntries(dir = SOURCE_DIR): Record<string, string> {
  const entries: Record<string, string> = {};
  const walk = (current: string) => {
    const names = fs.readdirSync(current);
    const module = ['module.ts', 'module.tsx'].find((m) => names.includes(m));
    if (names.includes('plugin.json') && module) {
      const rel = path.relative(dir, current);
      entries[rel ? `${rel}/module` : 'module'] = path.join(current, module);
    }
    for (const name of names) {
      const full = path.join(current, name);
      if (!['__mocks__', 'node_modules'].includes(name) && fs.statSync(full).isDirectory()) {
        walk(full);
      }
    }
  };
  walk(dir);
  return entries;
}

/**
 * Each plugin.json's screenshots, `img/screenshot-NAME.png` beside it, copied from docs/NAME.png: the
 * pictures the e2e suite retakes (docs/panel.png, docs/app-root.png, …) are the ones the catalog shows.
 */
export function screenshotPatterns(dir = SOURCE_DIR): Array<{ from: string; to: string }> {
  return Object.keys(findEntries(dir)).flatMap((entry) => {
    const pluginDir = path.dirname(entry) === '.' ? '' : path.dirname(entry);
    const shots: Array<{ path: string }> =
      readJson(path.join(dir, pluginDir, 'plugin.json')).info?.screenshots ?? [];
    return shots.map((s) => {
      const name = /^img\/screenshot-([a-z0-9-]+)\.png$/.exec(s.path)?.[1];
      if (!name)
        throw new Error(
          `${pluginDir || '.'}/plugin.json: screenshot ${s.path} is not img/screenshot-NAME.png`
        );
      return { from: path.join(__dirname, 'docs', `${name}.png`), to: path.join(pluginDir, s.path) };
    });
  });
}

/** Provided by Grafana at runtime through SystemJS (its sharedDependenciesMap); never bundled. */
export const externals: Configuration['externals'] = [
  'lodash',
  'jquery',
  'moment',
  'slate',
  'emotion',
  '@emotion/react',
  '@emotion/css',
  'prismjs',
  'slate-plain-serializer',
  '@grafana/slate-react',
  'react',
  'react-dom',
  // The JSX runtime is React's too: bundling React 18's makes elements React 19 (Grafana 13) rejects. Grafana
  // shares both from 12.3 on (create-plugin's React 19 migration adds the same two).
  'react/jsx-runtime',
  'react/jsx-dev-runtime',
  'react-redux',
  'redux',
  'rxjs',
  'i18next',
  'react-router',
  'react-router-dom',
  'd3',
  'angular',
  /^@grafana\/ui/i,
  /^@grafana\/runtime/i,
  /^@grafana\/data/i,
  // Legacy SDK imports ("grafana/app/...") resolve to Grafana's own modules.
  ({ request }: ExternalItemFunctionData, callback: (err?: Error, result?: string) => void) => {
    if (request && request.startsWith('grafana/')) {
      return callback(undefined, request.slice('grafana/'.length));
    }
    callback();
  },
];

const config = (_env: Record<string, unknown>, argv: { mode?: string }): Configuration => {
  const production = argv.mode !== 'development';
  const pluginJson = readJson(path.join(SOURCE_DIR, 'plugin.json'));
  const version: string = readJson(path.resolve(__dirname, 'package.json')).version;
  const today = new Date().toISOString().slice(0, 10);

  return {
    mode: production ? 'production' : 'development',
    context: SOURCE_DIR,
    target: 'web',
    devtool: production ? 'source-map' : 'eval-source-map',
    cache: { type: 'filesystem', buildDependencies: { config: [__filename] } },
    entry: findEntries(),
    externals,
    output: {
      clean: true,
      filename: '[name].js',
      library: { type: 'amd' },
      path: DIST_DIR,
      publicPath: `public/plugins/${pluginJson.id}/`,
      uniqueName: pluginJson.id,
    },
    module: {
      rules: [
        {
          test: /\.[tj]sx?$/,
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
      ],
    },
    resolve: { extensions: ['.ts', '.tsx', '.js', '.jsx'] },
    plugins: [
      new CopyWebpackPlugin({
        patterns: [
          {
            from: '**/plugin.json',
            to: '[path][name][ext]',
            // create-plugin's ReplaceInFileWebpackPlugin step, done while copying.
            transform: (content) =>
              content
                .toString()
                .replace(/%VERSION%/g, version)
                .replace(/%TODAY%/g, today)
                .replace(/%PLUGIN_ID%/g, pluginJson.id),
          },
          { from: '**/img/**/*', to: '[path][name][ext]', noErrorOnMissing: true },
          ...screenshotPatterns(),
          // The catalog's page: src/README.md is written for Grafana users (the repository's README is not).
          { from: 'README.md', to: '.' },
          { from: '../LICENSE', to: '.' },
          { from: '../CHANGELOG.md', to: '.' },
        ],
      }),
    ],
    performance: { hints: false },
  };
};

export default config;
