/** A real Prometheus for tests: the backend's own local Prometheus runner (the bench and the demo backfill use it too). */
export * from '../../backend/src/sources/local-prometheus';
