// What the built modules leave to Grafana: React, its JSX runtime and Grafana's packages come from the host's
// SystemJS map, never from the bundle (issue 21 item 4: a bundled React 18 jsx-runtime makes elements that
// React 19, Grafana 13's, refuses to render).
import fs from 'fs';
import path from 'path';

import { ROOT } from './harness/vendor';

const MODULES = ['module.js', 'datasource/module.js', 'panel/module.js'];

/** The dependency list of an AMD module as webpack writes it: define([...], function (...) {...}). */
function amdDependencies(source: string): string[] {
  const m = source.match(/define\((\[[^\]]*\])/);
  if (!m) {
    throw new Error('not an AMD module');
  }
  return JSON.parse(m[1]);
}

function readDist(file: string): string {
  const full = path.join(ROOT, 'dist', file);
  if (!fs.existsSync(full)) {
    throw new Error(`dist/${file} is missing: run \`npm run build\` first (npm run test:e2e does).`);
  }
  return fs.readFileSync(full, 'utf8');
}

describe.each(MODULES)('dist/%s', (file) => {
  const source = readDist(file);

  it("imports React's JSX runtime from Grafana and bundles no React element factory of its own", () => {
    const deps = amdDependencies(source);
    expect(deps).toContain('react/jsx-runtime');
    // React 18's runtime tags elements with Symbol.for("react.element"), React 19's with
    // "react.transitional.element": neither may be in a module that is to run on both.
    expect(source).not.toMatch(/Symbol\.for\(["']react\.(transitional\.)?element["']\)/);
    expect(source).not.toContain('__SECRET_INTERNALS_DO_NOT_USE_OR_YOU_WILL_BE_FIRED');
    expect(source).not.toContain('__CLIENT_INTERNALS_DO_NOT_USE_OR_WARN_USERS_THEY_CANNOT_UPGRADE');
  });

  it('takes every shared package it uses from Grafana', () => {
    for (const dep of amdDependencies(source)) {
      expect(dep).toMatch(
        /^(react|react\/jsx-runtime|react-dom|rxjs|@grafana\/(data|ui|runtime)|@emotion\/(css|react)|lodash)$/
      );
    }
  });
});

describe('plugin.json grafanaDependency', () => {
  it.each(['plugin.json', 'datasource/plugin.json', 'panel/plugin.json'])(
    '%s claims only the Grafana versions the e2e suite runs (12.4 and 13, whose shared jsx-runtime it needs)',
    (file) => {
      const json = JSON.parse(readDist(file));
      expect(json.dependencies.grafanaDependency).toBe('>=12.4.0 <14.0.0');
    }
  );
});
