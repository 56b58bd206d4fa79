/**
 * Writes JSON straight into a growing byte buffer, for answers too large for JSON.stringify to be cheap:
 * a 1000-series forecast holds ~150 000 [t, v] pairs, and formatting each double through the engine's
 * shortest-representation algorithm costs more than everything else in the request.
 */

/** Exact powers of ten (every one below 10^23 is a double). */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);
/** The largest integer written digit by digit; beyond it (or below 1e-9 precision) String() takes over. */
const MAX_DIGITS_INT = 1e15;
const MAX_FRACTION_DIGITS = 9;

export class JsonWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialBytes));
  }

  /** The bytes written so far (a view, not a copy). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /**
   * Direct access for a hot loop: the buffer, with room for `n` more bytes from `position`. Write into it,
   * then `advance` to the end of what was written, before any other call.
   */
  reserve(n: number): Buffer {
    this.ensure(n);
    return this.buf;
  }

  get position(): number {
    return this.pos;
  }

  advance(to: number): void {
    this.pos = to;
  }

  /** Characters of JSON syntax (ASCII only): brackets, commas, `"key":`. */
  raw(ascii: string): this {
    this.ensure(ascii.length);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < ascii.length; i++) b[p++] = ascii.charCodeAt(i);
    this.pos = p;
    return this;
  }

  /** Any JSON value through JSON.stringify: for the small parts (labels, strings). */
  value(v: unknown): this {
    const s = JSON.stringify(v);
    this.ensure(Buffer.byteLength(s));
    this.pos += this.buf.write(s, this.pos);
    return this;
  }

  /**
   * A number as JSON.stringify would write it (`null` when not finite), though not always in the same
   * characters: a decimal with the fewest fraction digits (≤ 9) that reads back as exactly `v`, else
   * String(v). m / 10^k === v with both exact means the decimal m·10^-k rounds to v, so it round-trips.
   */
  number(v: number): this {
    if (!Number.isFinite(v)) return this.raw('null');
    const a = Math.abs(v);
    if (a < MAX_DIGITS_INT) {
      if (Number.isInteger(v)) return this.digits(v, 0);
      // If any k ≤ 9 round-trips, k = 9 does (the same rational, rounded once): one test turns away
      // full-precision doubles, which only String() writes exactly.
      const m9 = Math.round(v * POW10[MAX_FRACTION_DIGITS]);
      if (a >= 1e-6 && m9 / POW10[MAX_FRACTION_DIGITS] === v) {
        for (let k = 1; k <= MAX_FRACTION_DIGITS; k++) {
          const m = Math.round(v * POW10[k]);
          if (m / POW10[k] === v && Math.abs(m) < MAX_DIGITS_INT) return this.digits(m, k);
        }
      }
    }
    return this.raw(String(v));
  }

  /**
   * `v` rounded to `significant` digits (≤ 15), for values whose further digits are noise, e.g. what a
   * float32 network computed (≈ 7 digits) after scaling back in float64.
   */
  rounded(v: number, significant: number): this {
    if (!Number.isFinite(v) || v === 0) return this.number(v);
    let k = significant - 1 - Math.floor(Math.log10(Math.abs(v)));
    // Math.log10 gives 7 just below 10^7: round such a value too, or a lower bound that rounds up to 10^7
    // would be written above a mean written whole just below it.
    if (k < 0 && Math.abs(v) < POW10[significant]) k = 0;
    if (k < 0 || k > 15) return this.number(v);
    let m = Math.sign(v) * Math.round(Math.abs(v) * POW10[k]); // halves away from zero, both signs alike
    if (Math.abs(m) >= MAX_DIGITS_INT) return this.number(v);
    while (k > 0 && m % 10 === 0) {
      m /= 10;
      k--;
    }
    return this.digits(m, k);
  }

  /** The integer m with a decimal point k digits from the right (m an exact integer below 1e15). */
  private digits(m: number, k: number): this {
    this.ensure(20);
    const b = this.buf;
    if (m < 0) {
      b[this.pos++] = 0x2d; // -0 is not below 0, and is written "0" as JSON.stringify does
      m = -m;
    }
    // Two int32 halves, so each digit is integer arithmetic (a double's % 10 is a slow library call).
    const hi = Math.floor(m / 1e8);
    const lo = m - hi * 1e8;
    let n = hi > 0 ? 8 + digitCount(hi) : digitCount(lo);
    if (n < k + 1) n = k + 1; // 0.05 is "0.05": leading zeros belong to the fraction
    const end = this.pos + n + (k > 0 ? 1 : 0);
    let p = end;
    let part = lo | 0;
    for (let i = 0; i < n; i++) {
      if (i === 8) part = hi | 0;
      if (k > 0 && i === k) b[--p] = 0x2e;
      const q = (part / 10) | 0;
      b[--p] = 0x30 + part - q * 10;
      part = q;
    }
    this.pos = end;
    return this;
  }
}

/** Decimal digits of a non-negative int32 (1 for 0). */
function digitCount(x: number): number {
  let n = 1;
  while (n < 10 && POW10[n] <= x) n++;
  return n;
}
