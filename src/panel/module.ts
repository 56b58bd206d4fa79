import { FieldColorModeId, FieldConfigProperty, PanelPlugin } from '@grafana/data';
import { GraphFieldConfig, GraphThresholdsStyleMode } from '@grafana/schema';
import { commonOptionsBuilder, getGraphFieldOptions } from '@grafana/ui';

import { ForecastPanel } from './components/ForecastPanel';
import { DEFAULT_OPTIONS, ForecastPanelOptions } from './types';

/** The field options a user edits like the Time series panel's: standard ones plus these few of its own. */
export type ForecastFieldConfig = Pick<
  GraphFieldConfig,
  'lineWidth' | 'thresholdsStyle' | 'hideFrom' | 'axisSoftMin' | 'axisSoftMax' | 'fillOpacity'
>;

export const plugin = new PanelPlugin<ForecastPanelOptions, ForecastFieldConfig>(ForecastPanel)
  .useFieldConfig({
    standardOptions: {
      [FieldConfigProperty.Color]: {
        settings: { byValueSupport: false, bySeriesSupport: true, preferThresholdsColors: false },
        defaultValue: { mode: FieldColorModeId.PaletteClassic },
      },
    },
    useCustomConfig: (builder) => {
      builder
        .addSliderInput({
          path: 'lineWidth',
          name: 'Line width',
          category: ['Graph styles'],
          defaultValue: 1,
          settings: { min: 0, max: 10, step: 1 },
        })
        .addSliderInput({
          path: 'fillOpacity',
          name: 'Fill opacity',
          description: 'Under the lines; the forecast band keeps its own shade unless overridden.',
          category: ['Graph styles'],
          defaultValue: 0,
          settings: { min: 0, max: 100, step: 1 },
        })
        .addNumberInput({ path: 'axisSoftMin', name: 'Soft min', category: ['Axis'] })
        .addNumberInput({ path: 'axisSoftMax', name: 'Soft max', category: ['Axis'] })
        .addSelect({
          path: 'thresholdsStyle.mode',
          name: 'Show thresholds',
          category: ['Thresholds'],
          defaultValue: GraphThresholdsStyleMode.Off,
          settings: { options: getGraphFieldOptions().thresholdsDisplayModes },
        });
      commonOptionsBuilder.addHideFrom(builder);
    },
  })
  .setPanelOptions((builder) => {
    builder
      .addTextInput({
        path: 'target',
        name: 'Scaling target',
        description:
          'Name of the backend target whose recommendation to show (template variables allowed). Empty: every target named by a label of the series, e.g. deployment="web" → web.',
        defaultValue: DEFAULT_OPTIONS.target,
      })
      .addBooleanSwitch({
        path: 'showRecommendation',
        name: 'Show recommendations',
        defaultValue: DEFAULT_OPTIONS.showRecommendation,
      })
      .addBooleanSwitch({
        path: 'showAnomalies',
        name: 'Show anomaly markers',
        defaultValue: DEFAULT_OPTIONS.showAnomalies,
      });
    // Multi by default: an SRE hovers to compare every workload at that instant.
    commonOptionsBuilder.addTooltipOptions(builder, false, false, { tooltip: DEFAULT_OPTIONS.tooltip });
    commonOptionsBuilder.addLegendOptions(builder, false);
  });
