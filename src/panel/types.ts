import {
  OptionsWithLegend,
  OptionsWithTooltip,
  LegendDisplayMode,
  SortOrder,
  TooltipDisplayMode,
} from '@grafana/schema';

export interface ForecastPanelOptions extends OptionsWithLegend, OptionsWithTooltip {
  /** Scaling target whose recommendation the card shows; empty = the targets named by the series' labels. */
  target: string;
  showRecommendation: boolean;
  showAnomalies: boolean;
}

export const DEFAULT_OPTIONS: ForecastPanelOptions = {
  target: '',
  showRecommendation: true,
  showAnomalies: true,
  legend: { showLegend: true, displayMode: LegendDisplayMode.List, placement: 'bottom', calcs: [] },
  tooltip: { mode: TooltipDisplayMode.Multi, sort: SortOrder.None },
};
