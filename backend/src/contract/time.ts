/**
 * The contract's times: answers carry Unix milliseconds, the backend computes in Unix seconds, and
 * requests give durations in seconds or Prometheus form. Pure functions, no imports but series/time's own
 * (pure, dependency-free) parsers, so both the backend and the plugin bundle compile this.
 */
export { parseDuration, parseTime } from '../series/time';

/** Unix seconds → the Unix milliseconds an answer carries (whole: fractions of a millisecond are noise). */
export const ms = (seconds: number): number => Math.round(seconds * 1000);
