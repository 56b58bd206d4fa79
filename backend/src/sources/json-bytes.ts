/**
 * A JSON parser over the raw bytes of a Prometheus answer that reads every `"values"` array of
 * `[timestamp, "value"]` pairs straight into typed arrays. A 1000-series range answer is ~3.5 MB of such
 * pairs: `JSON.parse` builds ~150 000 small arrays and strings from it, then each string is converted
 * again; this reads each number once, and the rest of the answer (labels, status) as ordinary JSON.
 */

/** A `"values"` array of `[seconds, "value"]` pairs. Values follow Prometheus' encoding (NaN, ±Inf). */
export class SamplePairs {
  constructor(
    readonly times: Float64Array,
    readonly values: Float64Array,
    readonly text: SampleText
  ) {}
}

/** Growable parallel columns shared by every pairs array of one answer (views are handed out at the end). */
class Columns {
  times: Float64Array;
  values: Float64Array;
  timeAt: Uint32Array;
  timeLen: Uint8Array;
  valueAt: Uint32Array;
  valueLen: Uint8Array;
  count = 0;

  constructor(capacity: number) {
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
    this.timeAt = new Uint32Array(capacity);
    this.timeLen = new Uint8Array(capacity);
    this.valueAt = new Uint32Array(capacity);
    this.valueLen = new Uint8Array(capacity);
  }

  grow(): void {
    const n = this.times.length * 2;
    const more = <T extends Float64Array | Uint32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.times = more(this.times, (k) => new Float64Array(k));
    this.values = more(this.values, (k) => new Float64Array(k));
    this.timeAt = more(this.timeAt, (k) => new Uint32Array(k));
    this.timeLen = more(this.timeLen, (k) => new Uint8Array(k));
    this.valueAt = more(this.valueAt, (k) => new Uint32Array(k));
    this.valueLen = more(this.valueLen, (k) => new Uint8Array(k));
  }
}

export class JsonBytesError extends SyntaxError {}

/** Exact powers of ten: below 10^22 every one is a double, so m / 10^k rounds once and correctly. */
import type { SampleText } from '../series/types';

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

const latin1 = new TextDecoder('latin1');
// ignoreBOM: without it the decoder drops a U+FEFF that starts a string, which JSON.parse keeps.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Short ASCII strings seen before, by a hash of their bytes: label names and values. A 1000-series answer
 * holds ~8000 of them, the same ones at every refresh; decoding each (a Buffer view and a TextDecoder
 * call, ~1 µs) was most of the time of parsing a small answer. A hit is checked byte for byte.
 */
const INTERN_MAX_LENGTH = 64;
const INTERN_MAX_ENTRIES = 1 << 16;
const interned = new Map<number, string>();

function asciiString(b: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n > INTERN_MAX_LENGTH) return latin1.decode(b.subarray(start, end));
  let h = 0x811c9dc5 ^ n; // FNV-1a
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i], 0x01000193);
  const known = interned.get(h);
  if (known !== undefined && known.length === n) {
    let i = 0;
    while (i < n && known.charCodeAt(i) === b[start + i]) i++;
    if (i === n) return known;
  }
  const s = latin1.decode(b.subarray(start, end));
  if (interned.size >= INTERN_MAX_ENTRIES) interned.clear();
  interned.set(h, s);
  return s;
}

/**
 * Parses `bytes` as JSON (UTF-8). Any object member named `values` that holds an array of
 * `[number, string]` pairs becomes a SamplePairs; every other value is what JSON.parse would give.
 * Throws JsonBytesError (a SyntaxError) on malformed input.
 */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  return new Parser(bytes).document();
}

/** A pairs array found while parsing: its range in the shared columns, resolved into views at the end. */
interface PendingPairs {
  holder: Record<string, unknown>;
  /** What holder.values holds until then; a later duplicate "values" member replaces it and wins. */
  placeholder: object;
  start: number;
  end: number;
}

/** Prometheus' sample value strings: decimals, `NaN`, `+Inf`, `-Inf` (and `Inf`, which some servers send). */
export function sampleValueFromText(text: string): number {
  switch (text) {
    case 'NaN':
      return NaN;
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
  }
  return text.trim() === '' ? NaN : Number(text);
}

class Parser {
  private pos = 0;
  /** A Prometheus pair (`[1700000000,"0.25"],`) takes ~20–25 bytes: room for a typical answer at once. */
  private readonly cols: Columns;
  private readonly pending: PendingPairs[] = [];

  constructor(private readonly b: Uint8Array) {
    this.cols = new Columns(Math.max(64, Math.ceil(b.length / 24)));
  }

  document(): unknown {
    let v: unknown;
    try {
      v = this.value();
    } catch (e) {
      // Recursion runs out around 10 000 levels of nesting; no query answer comes near that.
      if (e instanceof RangeError) throw new JsonBytesError(`nesting too deep at byte ${this.pos}`);
      throw e;
    }
    this.ws();
    if (this.pos !== this.b.length) this.fail('unexpected data after the JSON value');
    const c = this.cols;
    for (const { holder, placeholder, start, end } of this.pending) {
      if (holder.values !== placeholder) continue;
      holder.values = new SamplePairs(c.times.subarray(start, end), c.values.subarray(start, end), {
        bytes: this.b,
        timeAt: c.timeAt.subarray(start, end),
        timeLen: c.timeLen.subarray(start, end),
        valueAt: c.valueAt.subarray(start, end),
        valueLen: c.valueLen.subarray(start, end),
      });
    }
    return v;
  }

  private fail(what: string): never {
    throw new JsonBytesError(`${what} at byte ${this.pos}`);
  }

  private ws(): void {
    const b = this.b;
    let p = this.pos;
    for (;;) {
      const c = b[p];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.pos = p;
  }

  private expect(c: number, what: string): void {
    this.ws();
    if (this.b[this.pos] !== c) this.fail(`expected ${what}`);
    this.pos++;
  }

  private value(): unknown {
    this.ws();
    const c = this.b[this.pos];
    if (c === OPEN_OBJECT) return this.object();
    if (c === OPEN_ARRAY) return this.array();
    if (c === QUOTE) return this.string();
    if (c === MINUS || (c >= ZERO && c <= NINE)) return this.number();
    if (this.literal('true')) return true;
    if (this.literal('false')) return false;
    if (this.literal('null')) return null;
    return this.fail(this.pos >= this.b.length ? 'unexpected end of JSON' : 'unexpected character');
  }

  private literal(word: string): boolean {
    for (let i = 0; i < word.length; i++) if (this.b[this.pos + i] !== word.charCodeAt(i)) return false;
    this.pos += word.length;
    return true;
  }

  private object(): Record<string, unknown> {
    this.pos++; // {
    const out: Record<string, unknown> = {};
    this.ws();
    if (this.b[this.pos] === CLOSE_OBJECT) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.b[this.pos] !== QUOTE) this.fail('expected a member name');
      const key = this.string();
      this.expect(COLON, "':'");
      this.ws();
      let v: unknown;
      if (key === 'values' && this.b[this.pos] === OPEN_ARRAY) {
        const at = this.pos;
        const start = this.cols.count;
        if (this.pairs()) {
          // Resolved into a SamplePairs once the columns stop growing (see document()).
          const placeholder = {};
          this.pending.push({ holder: out, placeholder, start, end: this.cols.count });
          v = placeholder;
        } else {
          this.pos = at; // not pairs after all: read it as plain JSON
          this.cols.count = start;
          v = this.array();
        }
      } else v = this.value();
      // JSON.parse semantics for a member named __proto__: an own property, not the prototype.
      if (key === '__proto__')
        Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      this.ws();
      const c = this.b[this.pos++];
      if (c === CLOSE_OBJECT) return out;
      if (c !== COMMA) {
        this.pos--;
        this.fail("expected ',' or '}'");
      }
    }
  }

  private array(): unknown[] {
    this.pos++; // [
    const out: unknown[] = [];
    this.ws();
    if (this.b[this.pos] === CLOSE_ARRAY) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.b[this.pos++];
      if (c === CLOSE_ARRAY) return out;
      if (c !== COMMA) {
        this.pos--;
        this.fail("expected ',' or ']'");
      }
    }
  }

  /**
   * `[[t, "v"], …]` appended to the shared columns: true, or false (position unspecified) when the array
   * holds anything else, so the caller can read it as plain JSON instead.
   */
  private pairs(): boolean {
    const b = this.b;
    const c = this.cols;
    this.pos++; // [
    this.ws();
    if (b[this.pos] === CLOSE_ARRAY) {
      this.pos++;
      return true;
    }
    for (;;) {
      const after = this.compactPair();
      if (after === CLOSE_ARRAY) return true;
      if (after === COMMA) continue;
      this.ws();
      if (b[this.pos] !== OPEN_ARRAY) return false;
      this.pos++;
      this.ws();
      const tAt = this.pos;
      const first = b[tAt];
      if (!(first === MINUS || (first >= ZERO && first <= NINE))) return false;
      const t = this.number();
      // Whole seconds as written ("1700000000"): copied out as milliseconds by appending "000".
      const tLen = this.integerToken && first !== ZERO ? this.pos - tAt : 0;
      this.ws();
      if (b[this.pos] !== COMMA) return false;
      this.pos++;
      this.ws();
      if (b[this.pos] !== QUOTE) return false;
      const vAt = this.pos + 1;
      const v = this.sampleValue();
      const vLen = this.plainValue ? this.pos - 1 - vAt : 0;
      this.ws();
      if (b[this.pos] !== CLOSE_ARRAY) return false;
      this.pos++;
      if (c.count === c.times.length) c.grow();
      const n = c.count++;
      c.times[n] = t;
      c.values[n] = v;
      c.timeAt[n] = tAt;
      c.timeLen[n] = tLen;
      c.valueAt[n] = vAt;
      c.valueLen[n] = vLen;
      this.ws();
      const sep = b[this.pos++];
      if (sep === CLOSE_ARRAY) return true;
      if (sep !== COMMA) return false;
    }
  }

  /**
   * One pair in the exact form Prometheus writes, `[1700000000,"0.25"]` followed by `,` or `]`, read with
   * local variables only (this is the loop a large answer spends its time in). Stores it and returns the
   * byte after it; returns 0 and leaves the position alone for any other form, which the general path reads.
   */
  private compactPair(): number {
    const b = this.b;
    const at = this.pos;
    if (b[at] !== OPEN_ARRAY) return 0;
    let p = at + 1;
    let c = b[p];
    if (!(c > ZERO && c <= NINE)) return 0; // whole seconds, no sign, no leading zero
    let t = 0;
    const tAt = p;
    while (c >= ZERO && c <= NINE) {
      t = t * 10 + (c - ZERO);
      c = b[++p];
    }
    const tLen = p - tAt;
    if (tLen > 15 || c !== COMMA || b[p + 1] !== QUOTE) return 0;
    p += 2;
    const vAt = p;
    const negative = b[p] === MINUS;
    if (negative) p++;
    c = b[p];
    if (!(c >= ZERO && c <= NINE) || (c === ZERO && b[p + 1] >= ZERO && b[p + 1] <= NINE)) return 0;
    let m = 0;
    let digits = 0;
    let fraction = -1;
    for (;;) {
      if (c >= ZERO && c <= NINE) {
        m = m * 10 + (c - ZERO);
        digits++;
        if (fraction >= 0) fraction++;
      } else if (c === DOT && fraction < 0) fraction = 0;
      else break;
      c = b[++p];
    }
    if (c !== QUOTE || digits > 15 || fraction === 0 || b[p + 1] !== CLOSE_ARRAY) return 0;
    const sep = b[p + 2];
    if (sep !== COMMA && sep !== CLOSE_ARRAY) return 0;
    const v = fraction > 0 ? m / POW10[fraction] : m;
    const cols = this.cols;
    if (cols.count === cols.times.length) cols.grow();
    const n = cols.count++;
    cols.times[n] = t;
    cols.values[n] = negative ? -v : v;
    cols.timeAt[n] = tAt;
    cols.timeLen[n] = tLen;
    cols.valueAt[n] = vAt;
    cols.valueLen[n] = p - vAt;
    this.pos = p + 3;
    return sep;
  }

  /** Whether the last number() was a plain integer token (no sign, fraction or exponent). */
  private integerToken = false;
  /** Whether the last sampleValue() was a plain decimal, written as a valid JSON number. */
  private plainValue = false;

  /** A JSON number token. Plain decimals of up to 15 digits are exact by one division; others by Number(). */
  private number(): number {
    const b = this.b;
    const start = this.pos;
    let p = start;
    let negative = false;
    if (b[p] === MINUS) {
      negative = true;
      p++;
    }
    const fast = this.decimal(p, b.length);
    if (fast !== undefined) {
      this.pos = this.end;
      this.integerToken = !negative && !this.fractional;
      return negative ? -fast : fast;
    }
    this.integerToken = false;
    // The JSON number grammar, checked, then converted by the engine.
    if (b[p] === ZERO) p++;
    else if (b[p] >= ZERO && b[p] <= NINE) while (b[p] >= ZERO && b[p] <= NINE) p++;
    else return this.fail('malformed number');
    if (b[p] === DOT) {
      p++;
      if (!(b[p] >= ZERO && b[p] <= NINE)) return this.fail('malformed number');
      while (b[p] >= ZERO && b[p] <= NINE) p++;
    }
    if (b[p] === 0x65 || b[p] === 0x45) {
      p++;
      if (b[p] === PLUS || b[p] === MINUS) p++;
      if (!(b[p] >= ZERO && b[p] <= NINE)) return this.fail('malformed number');
      while (b[p] >= ZERO && b[p] <= NINE) p++;
    }
    this.pos = p;
    return Number(latin1.decode(b.subarray(start, p)));
  }

  /** Where `decimal` stopped, and whether what it read had a fraction. */
  private end = 0;
  private fractional = false;

  /**
   * Digits with an optional fraction (`123`, `0.25`), at most 15 significant-or-not digits, no exponent:
   * the value as the integer of all digits over 10^fraction-length, which is exact (both are doubles and
   * IEEE division rounds once). Undefined for anything else; `stop` is the first byte that may not belong.
   */
  private decimal(p: number, stop: number): number | undefined {
    const b = this.b;
    let m = 0;
    let digits = 0;
    let fraction = -1;
    const first = b[p];
    if (!(first >= ZERO && first <= NINE)) return undefined;
    if (first === ZERO && b[p + 1] >= ZERO && b[p + 1] <= NINE) return undefined; // leading zero: not JSON
    for (; p < stop; p++) {
      const c = b[p];
      if (c >= ZERO && c <= NINE) {
        m = m * 10 + (c - ZERO);
        digits++;
        if (fraction >= 0) fraction++;
      } else if (c === DOT && fraction < 0) {
        fraction = 0;
      } else break;
    }
    if (digits > 15 || fraction === 0) return undefined;
    const c = b[p];
    if (c === 0x65 || c === 0x45) return undefined; // exponent: the slow path
    this.end = p;
    this.fractional = fraction > 0;
    return fraction > 0 ? m / POW10[fraction] : m;
  }

  /** A sample value string: the fast decimal path, else the text through sampleValueFromText. */
  private sampleValue(): number {
    const b = this.b;
    const open = this.pos;
    let p = open + 1;
    let negative = false;
    if (b[p] === MINUS) {
      negative = true;
      p++;
    }
    // Scan to the closing quote first: the fast path may only claim all of the string.
    let close = p;
    while (close < b.length && b[close] !== QUOTE && b[close] !== BACKSLASH) close++;
    if (b[close] === QUOTE) {
      const v = this.decimal(p, close);
      if (v !== undefined && this.end === close) {
        this.pos = close + 1;
        this.plainValue = true;
        return negative ? -v : v;
      }
    }
    this.plainValue = false;
    return sampleValueFromText(this.string());
  }

  private string(): string {
    const b = this.b;
    const start = ++this.pos;
    let p = start;
    let ascii = true;
    for (;;) {
      const c = b[p];
      if (c === QUOTE) break;
      if (c === BACKSLASH || c === undefined || c < 0x20) return this.escapedString(start);
      if (c >= 0x80) ascii = false;
      p++;
    }
    this.pos = p + 1;
    if (ascii) return asciiString(b, start, p);
    try {
      return utf8.decode(b.subarray(start, p));
    } catch {
      this.pos = start;
      return this.fail('invalid UTF-8 in a string');
    }
  }

  /** The general case: escapes (\n, \uXXXX and surrogate pairs), via JSON.parse on just this string. */
  private escapedString(start: number): string {
    const b = this.b;
    let p = start;
    for (;;) {
      const c = b[p];
      if (c === undefined) {
        this.pos = p;
        return this.fail('unterminated string');
      }
      if (c === BACKSLASH) p += 2;
      else if (c === QUOTE) break;
      else p++;
    }
    this.pos = p + 1;
    let text: string;
    try {
      text = utf8.decode(b.subarray(start - 1, p + 1));
    } catch {
      this.pos = start;
      return this.fail('invalid UTF-8 in a string');
    }
    try {
      return JSON.parse(text) as string;
    } catch {
      this.pos = start;
      return this.fail('malformed string');
    }
  }
}
