/**
 * The models the backend serves, as loaded at start (server.ts): each one, or why it is missing. The HTTP
 * routes and the evaluation loop read the same object.
 */
import type { AnomalyModel } from './anomaly';
import type { LstmForecaster } from './forecast/lstm';

export interface Models {
  forecaster?: LstmForecaster;
  forecasterError?: string;
  anomaly?: AnomalyModel;
  anomalyError?: string;
}
