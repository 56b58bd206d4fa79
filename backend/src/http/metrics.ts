/** The backend's metrics live in ../metrics.ts (the loop sets them too); re-exported for the HTTP side. */
export { Metrics } from '../metrics';
