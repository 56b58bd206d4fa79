/** RE2 syntax (re2.ts) parsed into a tree of character tests, concatenations, alternations and repeats. */

export class RegexSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegexSyntaxError';
  }
}

/** RE2's limit on a counted repetition. */
const MAX_REPEAT = 1000;
/** Groups inside groups: the parser and compiler recurse once per level. */
const MAX_DEPTH = 1000;

export type CharTest = (c: number) => boolean;

export type Node =
  | { k: 'char'; test: CharTest }
  | { k: 'cat'; items: Node[] }
  | { k: 'alt'; items: Node[] }
  | { k: 'rep'; node: Node; min: number; max: number }
  | { k: 'assert'; at: 'bol' | 'eol' | 'bot' | 'eot' };

interface Flags {
  i: boolean;
  s: boolean;
  m: boolean;
}

/** A set of code points: sorted, disjoint, inclusive ranges. */
type Ranges = ReadonlyArray<readonly [number, number]>;

const MAX_CODE_POINT = 0x10ffff;
const DIGIT: Ranges = [[0x30, 0x39]];
const WORD: Ranges = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];
// RE2's \s: [\t\n\f\r ] (no \v).
const SPACE: Ranges = [
  [0x09, 0x0a],
  [0x0c, 0x0d],
  [0x20, 0x20],
];

/** Sorted and merged. */
function normalize(rs: Iterable<readonly [number, number]>): Ranges {
  const sorted = [...rs].sort((x, y) => x[0] - y[0]);
  const out: Array<[number, number]> = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function complement(rs: Ranges): Ranges {
  const out: Array<[number, number]> = [];
  let next = 0;
  for (const [lo, hi] of rs) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

/** Membership by binary search: a class of half a million members costs ~20 comparisons a character. */
function inRanges(rs: Ranges): CharTest {
  return (c) => {
    let lo = 0;
    let hi = rs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (c < rs[mid][0]) hi = mid - 1;
      else if (c > rs[mid][1]) lo = mid + 1;
      else return true;
    }
    return false;
  };
}

const not =
  (t: CharTest): CharTest =>
  (c) =>
    !t(c);

const POSIX: Record<string, Ranges> = {
  alnum: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  alpha: [
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  ascii: [[0, 0x7f]],
  blank: [
    [0x09, 0x09],
    [0x20, 0x20],
  ],
  cntrl: [
    [0, 0x1f],
    [0x7f, 0x7f],
  ],
  digit: DIGIT,
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [
    [0x21, 0x2f],
    [0x3a, 0x40],
    [0x5b, 0x60],
    [0x7b, 0x7e],
  ],
  space: [
    [0x09, 0x0d],
    [0x20, 0x20],
  ],
  upper: [[0x41, 0x5a]],
  word: WORD,
  xdigit: [
    [0x30, 0x39],
    [0x41, 0x46],
    [0x61, 0x66],
  ],
};

/** The other case of a code point, or itself (ASCII and the common Unicode letters via toLowerCase). */
function foldCase(t: CharTest): CharTest {
  return (c) => {
    if (t(c)) return true;
    const s = String.fromCodePoint(c);
    const lo = s.toLowerCase();
    const up = s.toUpperCase();
    return (
      (lo !== s && [...lo].length === 1 && t(lo.codePointAt(0)!)) ||
      (up !== s && [...up].length === 1 && t(up.codePointAt(0)!))
    );
  };
}

export class Parser {
  private i = 0;
  private depth = 0;
  private readonly src: number[];
  /** The string offset of each code point (they differ after characters outside the BMP). */
  private readonly offsets: number[];

  constructor(readonly pattern: string) {
    this.src = [];
    this.offsets = [];
    let o = 0;
    for (const ch of pattern) {
      this.src.push(ch.codePointAt(0)!);
      this.offsets.push(o);
      o += ch.length;
    }
    this.offsets.push(o);
  }

  /** `re` (sticky) at the current position; the match's length in code points is its length in chars. */
  private lookingAt(re: RegExp): RegExpExecArray | null {
    re.lastIndex = this.offsets[this.i];
    return re.exec(this.pattern);
  }

  parse(): Node {
    const node = this.alternation({ i: false, s: true, m: false });
    if (this.i < this.src.length) throw this.error('unexpected )');
    return node;
  }

  private error(what: string): RegexSyntaxError {
    return new RegexSyntaxError(`${what} at position ${this.i}`);
  }

  private peek(): number | undefined {
    return this.src[this.i];
  }

  private eat(c: string): boolean {
    if (this.src[this.i] === c.codePointAt(0)) {
      this.i++;
      return true;
    }
    return false;
  }

  /** `a|b|…` up to a `)` or the end; `flags` may be changed by `(?i)` inside, for the rest of the group. */
  private alternation(flags: Flags): Node {
    const f = { ...flags };
    const items: Node[] = [this.concatenation(f)];
    while (this.eat('|')) items.push(this.concatenation(f));
    return items.length === 1 ? items[0] : { k: 'alt', items };
  }

  private concatenation(f: Flags): Node {
    const items: Node[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === 0x7c /* | */ || c === 0x29 /* ) */) break;
      const atom = this.atom(f);
      if (atom === undefined) continue; // a flags group such as (?i)
      items.push(this.repetition(atom));
    }
    return { k: 'cat', items };
  }

  private repetition(atom: Node): Node {
    let node = atom;
    let repeated = false;
    for (;;) {
      const start = this.i;
      let min: number;
      let max: number;
      if (this.eat('*')) [min, max] = [0, Infinity];
      else if (this.eat('+')) [min, max] = [1, Infinity];
      else if (this.eat('?')) [min, max] = [0, 1];
      else {
        const counted = this.counted();
        if (!counted) return node;
        [min, max] = counted;
      }
      if (repeated) {
        this.i = start;
        throw this.error('invalid nested repetition operator');
      }
      this.eat('?'); // lazy: the same set of matches
      node = { k: 'rep', node, min, max };
      repeated = true;
    }
  }

  /** `{n}`, `{n,}`, `{n,m}`; undefined (nothing consumed) when the `{` is a literal, as in RE2. */
  private counted(): [number, number] | undefined {
    if (this.peek() !== 0x7b) return undefined;
    const m = this.lookingAt(/\{(\d+)(,(\d*))?\}/y);
    if (!m) return undefined;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT))
      throw this.error(`repeat count over ${MAX_REPEAT}`);
    if (max < min) throw this.error('invalid repeat count');
    this.i += m[0].length; // digits, commas and braces: one code point each
    return [min, max];
  }

  private atom(f: Flags): Node | undefined {
    const c = this.src[this.i++];
    const lit = (t: CharTest): Node => ({ k: 'char', test: f.i ? foldCase(t) : t });
    switch (c) {
      case 0x28 /* ( */: {
        if (++this.depth > MAX_DEPTH) throw this.error(`groups nested over ${MAX_DEPTH} deep`);
        const g = this.group(f);
        this.depth--;
        return g;
      }
      case 0x5b /* [ */:
        return { k: 'char', test: this.charClass(f) };
      case 0x2e /* . */:
        return { k: 'char', test: f.s ? () => true : (x) => x !== 0x0a };
      case 0x5e /* ^ */:
        return { k: 'assert', at: f.m ? 'bol' : 'bot' };
      case 0x24 /* $ */:
        return { k: 'assert', at: f.m ? 'eol' : 'eot' };
      case 0x5c /* \ */: {
        const e = this.escape(false);
        if (typeof e === 'string') return { k: 'assert', at: e };
        return lit(typeof e === 'number' ? (x) => x === e : inRanges(e));
      }
      case 0x2a /* * */:
      case 0x2b /* + */:
      case 0x3f /* ? */:
        this.i--;
        throw this.error(`missing argument to repetition operator ${String.fromCodePoint(c)}`);
      default:
        return lit((x) => x === c);
    }
  }

  private group(f: Flags): Node | undefined {
    if (this.eat('?')) {
      if (this.eat('P') || this.peek() === 0x3c /* < */) {
        // (?P<name>…) or (?<name>…): a capture; the name does not matter for matching.
        if (!this.eat('<')) throw this.error('invalid named capture');
        while (this.peek() !== undefined && this.peek() !== 0x3e) {
          if (!inRanges(WORD)(this.peek()!)) throw this.error('invalid named capture');
          this.i++;
        }
        if (!this.eat('>')) throw this.error('invalid named capture');
        return this.closeGroup(f);
      }
      // Flags: (?flags) for the rest of this group, or (?flags:re).
      const set = { ...f };
      let negate = false;
      for (;;) {
        const c = this.src[this.i++];
        if (c === undefined) throw this.error('missing closing )');
        const ch = String.fromCodePoint(c);
        if (ch === '-' && !negate) negate = true;
        else if (ch === 'i' || ch === 's' || ch === 'm') set[ch] = !negate;
        else if (ch === 'U')
          continue; // ungreedy: the same set of matches
        else if (ch === ')') {
          Object.assign(f, set);
          return undefined;
        } else if (ch === ':') return this.closeGroup(set);
        else {
          this.i--;
          throw this.error(
            ch === '=' || ch === '!' || ch === '<'
              ? 'lookaround ((?=, (?!, (?<=) is not RE2 syntax'
              : `unknown group flag ${ch}`
          );
        }
      }
    }
    return this.closeGroup(f);
  }

  private closeGroup(f: Flags): Node {
    const node = this.alternation(f);
    if (!this.eat(')')) throw this.error('missing closing )');
    return node;
  }

  /**
   * After a backslash: a class (`\d`), an assertion (`\A`, `\z`), or one code point. Inside `[…]`,
   * assertions are refused.
   */
  private escape(inClass: boolean): Ranges | number | 'bot' | 'eot' {
    const c = this.src[this.i++];
    if (c === undefined) throw this.error('trailing backslash at end of expression');
    const ch = String.fromCodePoint(c);
    const one = (x: number): number => x;
    switch (ch) {
      case 'd':
        return DIGIT;
      case 'D':
        return complement(DIGIT);
      case 'w':
        return WORD;
      case 'W':
        return complement(WORD);
      case 's':
        return SPACE;
      case 'S':
        return complement(SPACE);
      case 'n':
        return one(0x0a);
      case 't':
        return one(0x09);
      case 'r':
        return one(0x0d);
      case 'f':
        return one(0x0c);
      case 'v':
        return one(0x0b);
      case 'a':
        return one(0x07);
      case 'x': {
        const m = this.lookingAt(/\{([0-9a-fA-F]{1,6})\}|([0-9a-fA-F]{2})/y);
        if (!m) throw this.error('invalid escape sequence \\x');
        this.i += m[0].length;
        const cp = parseInt(m[1] ?? m[2], 16);
        if (cp > 0x10ffff) throw this.error('invalid escape sequence \\x');
        return one(cp);
      }
      case 'A':
      case 'z':
        if (inClass) throw this.error(`invalid escape sequence \\${ch}`);
        return ch === 'A' ? 'bot' : 'eot';
      case 'b':
      case 'B':
      case 'p':
      case 'P':
      case 'Q':
      case 'E':
      case 'C':
        throw this.error(`\\${ch} is not supported by the demo source's matcher`);
      default:
        if (c < 0x80 && !/[0-9A-Za-z_]/.test(ch)) return one(c); // escaped punctuation
        throw this.error(`invalid escape sequence \\${ch}`);
    }
  }

  /**
   * After `[`: `[^…]`, ranges, escapes and `[:name:]` up to the closing `]` (a leading `]` is literal).
   * Under (?i) the members are folded before the class is negated, as RE2 does.
   */
  private charClass(f: Flags): CharTest {
    const negate = this.eat('^');
    const members: Array<readonly [number, number]> = [];
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw this.error('missing closing ]');
      if (c === 0x5d && !first) {
        this.i++;
        break;
      }
      first = false;
      if (c === 0x5b && this.src[this.i + 1] === 0x3a) {
        const m = this.lookingAt(/\[:(\^?)([a-z]+):\]/y);
        if (m) {
          const rs = POSIX[m[2]];
          if (!rs) throw this.error(`invalid character class range [:${m[2]}:]`);
          members.push(...(m[1] ? complement(rs) : rs));
          this.i += m[0].length;
          continue;
        }
      }
      const lo = this.classChar();
      if (typeof lo !== 'number') {
        members.push(...lo);
        continue;
      }
      if (
        this.peek() === 0x2d /* - */ &&
        this.src[this.i + 1] !== undefined &&
        this.src[this.i + 1] !== 0x5d
      ) {
        this.i++;
        const hi = this.classChar();
        if (typeof hi !== 'number' || hi < lo) throw this.error('invalid character class range');
        members.push([lo, hi]);
      } else members.push([lo, lo]);
    }
    const test = inRanges(normalize(members));
    const folded = f.i ? foldCase(test) : test;
    return negate ? not(folded) : folded;
  }

  /** One member of a class: a code point, or a class escape such as `\d`. */
  private classChar(): number | Ranges {
    const c = this.src[this.i++];
    return c === 0x5c ? (this.escape(true) as number | Ranges) : c;
  }
}
