export interface ForecastPanelOptions {
  /** Scaling target whose recommendation the card shows; empty = the target named by the series' labels. */
  target: string;
  showRecommendation: boolean;
  showAnomalies: boolean;
}

export const DEFAULT_OPTIONS: ForecastPanelOptions = {
  target: '',
  showRecommendation: true,
  showAnomalies: true,
};
