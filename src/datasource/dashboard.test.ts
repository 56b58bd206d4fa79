// The provisioned demo dashboard draws the data source's frames in Grafana's built-in Time series panel too:
// every override there must name a field these frames really have, or the band silently loses its fill.
import fs from 'fs';
import path from 'path';
import { getFieldDisplayName } from '@grafana/data';

import { anomaliesResponse, forecastResponse } from './fixtures';
import { anomalyFrames, forecastFrames } from './frames';
import { FrameKind, PrescalerQuery } from './types';

const dashboard = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../../provisioning/grafana/dashboards/prescaler.json'), 'utf8')
);

interface Override {
  matcher: { id: string; options: string };
  properties: Array<{ id: string; value: unknown }>;
}

describe('the demo dashboard', () => {
  const builtIn = dashboard.panels.filter(
    (p: { type: string; datasource?: { type: string } }) =>
      p.type === 'timeseries' && p.datasource?.type === 'prescaler-forecast-datasource'
  );

  it("keeps the Prescaler panel for approvals and shows the same frames in Grafana's Time series panel", () => {
    expect(dashboard.panels.some((p: { type: string }) => p.type === 'prescaler-forecast-panel')).toBe(true);
    expect(builtIn).toHaveLength(1);
  });

  it('names only fields the data source returns, and fills the band from its upper edge down to its lower', () => {
    const [panel] = builtIn;
    const query = panel.targets[0] as PrescalerQuery;
    const kinds = query.frames as FrameKind[];
    const labels = { deployment: 'web', namespace: 'default' };
    // The fixtures' label set, renamed as the query's legend format names it.
    const opts = { refId: 'A', kinds, legendFormat: query.legendFormat, unit: query.unit };
    const frames = [
      ...forecastFrames({ series: [{ ...forecastResponse.series[0], labels }] }, opts),
      ...anomalyFrames({ series: [{ ...anomaliesResponse.series[0], labels }] }, opts),
    ];
    expect(frames.length).toBeGreaterThan(0);
    const names = frames.flatMap((f) => f.fields.slice(1).map((x) => getFieldDisplayName(x, f, frames)));
    const overrides = panel.fieldConfig.overrides as Override[];
    for (const o of overrides) {
      expect(o.matcher.id).toBe('byName');
      expect(names).toContain(o.matcher.options);
    }
    const upper = overrides.find((o) => o.matcher.options === 'web forecast upper')!;
    const fillBelowTo = upper.properties.find((p) => p.id === 'custom.fillBelowTo')?.value;
    expect(fillBelowTo).toBe('web forecast lower');
    expect(names).toContain(fillBelowTo);
  });
});
