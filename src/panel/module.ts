import { PanelPlugin } from '@grafana/data';

import { ForecastPanel } from './components/ForecastPanel';
import { DEFAULT_OPTIONS, ForecastPanelOptions } from './types';

export const plugin = new PanelPlugin<ForecastPanelOptions>(ForecastPanel).setPanelOptions((builder) =>
  builder
    .addTextInput({
      path: 'target',
      name: 'Scaling target',
      description:
        'Name of the backend target whose recommendation to show (template variables allowed). Empty: the target named by a label of the series, e.g. deployment="web" → web.',
      defaultValue: DEFAULT_OPTIONS.target,
    })
    .addBooleanSwitch({
      path: 'showRecommendation',
      name: 'Show recommendation',
      defaultValue: DEFAULT_OPTIONS.showRecommendation,
    })
    .addBooleanSwitch({
      path: 'showAnomalies',
      name: 'Show anomaly markers',
      defaultValue: DEFAULT_OPTIONS.showAnomalies,
    })
);
