/** The HTTP contract shared by the backend and the Grafana app (src/): its types, defaults and times. */
export * from './api';
export * from './time';
