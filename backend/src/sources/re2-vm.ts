/** The parsed pattern compiled to a Thompson NFA program, and the Pike VM that runs it (re2.ts). */
import { RegexSyntaxError, type CharTest, type Node } from './re2-parse';

/** Compiled instructions a pattern may take (each `{n,m}` copies its operand). */
const MAX_PROGRAM = 100_000;

type Inst =
  | { op: 'char'; test: CharTest; next: number }
  | { op: 'split'; a: number; b: number }
  | { op: 'jmp'; to: number }
  | { op: 'assert'; at: 'bol' | 'eol' | 'bot' | 'eot'; next: number }
  | { op: 'match' };

export class Compiler {
  readonly prog: Inst[] = [];

  private emit(inst: Inst): number {
    if (this.prog.length >= MAX_PROGRAM)
      throw new RegexSyntaxError(`expression too large (over ${MAX_PROGRAM} instructions)`);
    this.prog.push(inst);
    return this.prog.length - 1;
  }

  /** Emits `node` so that it continues at the next instruction emitted after it. */
  compile(node: Node): void {
    switch (node.k) {
      case 'char': {
        const at = this.emit({ op: 'char', test: node.test, next: -1 });
        (this.prog[at] as { next: number }).next = at + 1;
        return;
      }
      case 'assert': {
        const at = this.emit({ op: 'assert', at: node.at, next: -1 });
        (this.prog[at] as { next: number }).next = at + 1;
        return;
      }
      case 'cat':
        for (const n of node.items) this.compile(n);
        return;
      case 'alt': {
        // split L1, next; L1: a; jmp end; next: split L2, … ; last: z
        const jumps: number[] = [];
        node.items.forEach((item, k) => {
          if (k < node.items.length - 1) {
            const split = this.emit({ op: 'split', a: -1, b: -1 });
            (this.prog[split] as { a: number }).a = split + 1;
            this.compile(item);
            jumps.push(this.emit({ op: 'jmp', to: -1 }));
            (this.prog[split] as { b: number }).b = this.prog.length;
          } else this.compile(item);
        });
        for (const j of jumps) (this.prog[j] as { to: number }).to = this.prog.length;
        return;
      }
      case 'rep': {
        for (let k = 0; k < node.min; k++) this.compile(node.node);
        if (node.max === Infinity) {
          // L: split body, end; body; jmp L
          const split = this.emit({ op: 'split', a: -1, b: -1 });
          (this.prog[split] as { a: number }).a = split + 1;
          this.compile(node.node);
          this.emit({ op: 'jmp', to: split });
          (this.prog[split] as { b: number }).b = this.prog.length;
        } else {
          const splits: number[] = [];
          for (let k = node.min; k < node.max; k++) {
            const split = this.emit({ op: 'split', a: -1, b: -1 });
            (this.prog[split] as { a: number }).a = split + 1;
            splits.push(split);
            this.compile(node.node);
          }
          for (const s of splits) (this.prog[s] as { b: number }).b = this.prog.length;
        }
        return;
      }
    }
  }
}

/** Runs the program over the whole of `input` (code points); true if it ends in `match`. */
export function run(prog: readonly Inst[], input: readonly number[]): boolean {
  const n = prog.length;
  let clist = new Int32Array(n);
  let nlist = new Int32Array(n);
  let ccount = 0;
  let ncount = 0;
  // Generation marks: a state is added to a list at most once per input position.
  const mark = new Int32Array(n).fill(-1);
  // Each state, once marked, pushes at most two more: 2n + 1 pushes per closure at most.
  const stack = new Int32Array(2 * n + 2);

  const add = (list: Int32Array, count: number, pc0: number, pos: number, gen: number): number => {
    let sp = 0;
    stack[sp++] = pc0;
    while (sp > 0) {
      const pc = stack[--sp];
      if (mark[pc] === gen) continue;
      mark[pc] = gen;
      const inst = prog[pc];
      switch (inst.op) {
        case 'jmp':
          stack[sp++] = inst.to;
          break;
        case 'split':
          stack[sp++] = inst.b;
          stack[sp++] = inst.a;
          break;
        case 'assert': {
          const prev = pos > 0 ? input[pos - 1] : undefined;
          const cur = input[pos];
          const ok =
            inst.at === 'bot'
              ? pos === 0
              : inst.at === 'eot'
                ? pos === input.length
                : inst.at === 'bol'
                  ? pos === 0 || prev === 0x0a
                  : pos === input.length || cur === 0x0a;
          if (ok) stack[sp++] = inst.next;
          break;
        }
        default:
          list[count++] = pc;
      }
    }
    return count;
  };

  let gen = 0;
  ccount = add(clist, 0, 0, 0, gen++);
  for (let pos = 0; pos < input.length; pos++) {
    const c = input[pos];
    ncount = 0;
    const g = gen++;
    for (let k = 0; k < ccount; k++) {
      const inst = prog[clist[k]];
      if (inst.op === 'char' && inst.test(c)) ncount = add(nlist, ncount, inst.next, pos + 1, g);
    }
    [clist, nlist] = [nlist, clist];
    ccount = ncount;
    if (ccount === 0) return false;
  }
  for (let k = 0; k < ccount; k++) if (prog[clist[k]].op === 'match') return true;
  return false;
}
