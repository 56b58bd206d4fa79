/**
 * The contract's times: answers carry Unix milliseconds, the backend computes in Unix seconds, and
 * requests give times and durations as docs/api.md "Conventions" says (parseTime, parseDuration; results in
 * seconds). Pure functions, no imports, so both the backend and the plugin bundle compile this.
 */

/** Unix seconds → the Unix milliseconds an answer carries (whole: fractions of a millisecond are noise). */
export const ms = (seconds: number): number => Math.round(seconds * 1000);

const DURATION_UNITS: Record<string, number> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
  w: 604800,
  y: 31536000,
};

/** n, or undefined for ±Infinity and NaN: an overlong numeric string such as "1000…000" becomes Infinity. */
const finite = (n: number): number | undefined => (Number.isFinite(n) ? n : undefined);

/** Unix seconds (number or numeric string) or RFC 3339. Returns undefined when it is neither. */
export function parseTime(input: unknown): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? input : undefined;
  if (typeof input !== 'string' || input.trim() === '') return undefined;
  const s = input.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return finite(Number(s));
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.exec(s);
  if (!m) return undefined;
  // Date.parse rolls impossible dates over (Feb 30 → Mar 2); refuse them instead.
  const [, y, mo, d, h, mi] = m.map(Number);
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > days || h > 23 || mi > 59) return undefined;
  const at = Date.parse(s); // milliseconds
  return Number.isFinite(at) ? at / 1000 : undefined;
}

/** Seconds (number or numeric string) or Prometheus form: `90s`, `10m`, `1h30m`, `1d`. */
export function parseDuration(input: unknown): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? input : undefined;
  if (typeof input !== 'string' || input.trim() === '') return undefined;
  const s = input.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return finite(Number(s));
  const re = /(\d+)(ms|s|m|h|d|w|y)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    matched += m[0].length;
  }
  return matched === s.length && matched > 0 ? finite(total) : undefined;
}
