/**
 * The WebAssembly SIMD kernel, emitted as bytes.
 *
 * One module per pair of activations (built for them, no dispatch); its exported function runs an LSTM
 * layer over a batch: for each series and time step it forms z = bias + [x_t, h] · W in f32x4 registers
 * (16 or 32 gates at a time, each element of [x_t, h] broadcast), then the gates. tanh and sigmoid use a Cephes-style exp polynomial (relative error ~1e-7). Emitted as bytes here
 * rather than shipped as a binary so the source is the whole truth.
 */
import type { ActivationName } from './types';

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const f32Bytes = (v: number) => Array.from(new Uint8Array(new Float32Array([v]).buffer));
const I32 = 0x7f;
const V128 = 0x7b;
const VOID = 0x40;
const simd = (op: number) => [0xfd, ...uleb(op)];
const w = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (n: number) => [0x41, ...sleb(n)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  shl: [0x74],
  and: [0x71],
  eq: [0x46],
  geS: [0x4e],
  eqz: [0x45],
  call: (f: number) => [0x10, ...uleb(f)],
  f32load: (off = 0) => [0x2a, 0, ...uleb(off)],
  f32store: (off = 0) => [0x38, 0, ...uleb(off)],
  f32const: (v: number) => [0x43, ...f32Bytes(v)],
  vload: (off = 0) => [...simd(0x00), 0, ...uleb(off)],
  vsplatLoad: (off = 0) => [...simd(0x09), 0, ...uleb(off)],
  vstore: (off = 0) => [...simd(0x0b), 0, ...uleb(off)],
  vconst: (v: number) => [...simd(0x0c), ...f32Bytes(v), ...f32Bytes(v), ...f32Bytes(v), ...f32Bytes(v)],
  vconstI: (v: number) => {
    const b = Array.from(new Uint8Array(new Int32Array([v]).buffer));
    return [...simd(0x0c), ...b, ...b, ...b, ...b];
  },
  vand: simd(0x4e),
  vor: simd(0x50),
  iadd: simd(0xae),
  ishl: simd(0xab),
  fnearest: simd(0x6a),
  fabs: simd(0xe0),
  fadd: simd(0xe4),
  fsub: simd(0xe5),
  fmul: simd(0xe6),
  fdiv: simd(0xe7),
  fmin: simd(0xe8),
  fmax: simd(0xe9),
  truncSat: simd(0xf8),
  block: [0x02, VOID],
  loop: [0x03, VOID],
  ifV128: [0x04, V128],
  ifVoid: [0x04, VOID],
  else: [0x05],
  end: [0x0b],
  br: (d: number) => [0x0c, ...uleb(d)],
  brIf: (d: number) => [0x0d, ...uleb(d)],
};

/** `for (i = from; i < limit; i += step) body`, all i32 locals/instructions. */
function forLoop(i: number, from: number[], limit: number[], step: number[], body: number[]): number[] {
  return [
    ...from,
    ...w.set(i),
    ...w.block,
    ...w.loop,
    ...w.get(i),
    ...limit,
    ...w.geS,
    ...w.brIf(1),
    ...body,
    ...w.get(i),
    ...step,
    ...w.add,
    ...w.set(i),
    ...w.br(0),
    ...w.end,
    ...w.end,
  ];
}

/** The kernel module's bytes for one pair of activations: exports `memory`, `lstm4` and `lstm8`. */
export function buildKernel(
  activation: ActivationName,
  recurrentActivation: ActivationName
): Uint8Array<ArrayBuffer> {
  // exp of the value on the stack (clamped so 2^n stays a normal float), in the given v128 locals; inlined
  // into the activations.
  const expCode = (X: number, N: number, R: number, P: number): number[] => {
    const poly = [
      1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1,
    ];
    const code: number[] = [
      ...w.vconst(-87.0),
      ...w.fmax,
      ...w.vconst(88.0),
      ...w.fmin,
      ...w.set(X),
      ...w.get(X),
      ...w.vconst(Math.LOG2E),
      ...w.fmul,
      ...w.fnearest,
      ...w.set(N),
      // r = x − n·ln2 in two parts, so r keeps its low bits
      ...w.get(X),
      ...w.get(N),
      ...w.vconst(0.693359375),
      ...w.fmul,
      ...w.fsub,
      ...w.get(N),
      ...w.vconst(-2.1219444e-4),
      ...w.fmul,
      ...w.fsub,
      ...w.set(R),
      ...w.vconst(poly[0]),
    ];
    for (const c of poly.slice(1)) code.push(...w.get(R), ...w.fmul, ...w.vconst(c), ...w.fadd);
    code.push(
      ...w.set(P),
      // p·r² + r + 1
      ...w.get(P),
      ...w.get(R),
      ...w.get(R),
      ...w.fmul,
      ...w.fmul,
      ...w.get(R),
      ...w.fadd,
      ...w.vconst(1),
      ...w.fadd,
      // × 2^n built in the exponent bits
      ...w.get(N),
      ...w.truncSat,
      ...w.vconstI(127),
      ...w.iadd,
      ...w.i32(23),
      ...w.ishl,
      ...w.fmul
    );
    return code;
  };

  // The activation of the value on the stack, inlined where it is used (a call per four units costs as
  // much as the arithmetic), in six v128 locals from `base`.
  const actCode = (kind: ActivationName, base: number): number[] => {
    const [V, E, X, N, R, P] = [0, 1, 2, 3, 4, 5].map((i) => base + i);
    const codes: Record<ActivationName, number[]> = {
      // tanh|v| = (1 − e)/(1 + e) with e = exp(−2|v|); the sign bit copied back from v
      tanh: [
        ...w.get(V),
        ...w.fabs,
        ...w.vconst(-2),
        ...w.fmul,
        ...expCode(X, N, R, P),
        ...w.set(E),
        ...w.vconst(1),
        ...w.get(E),
        ...w.fsub,
        ...w.vconst(1),
        ...w.get(E),
        ...w.fadd,
        ...w.fdiv,
        ...w.get(V),
        ...w.vconstI(-0x80000000),
        ...w.vand,
        ...w.vor,
      ],
      sigmoid: [
        ...w.vconst(1),
        ...w.vconst(1),
        ...w.get(V),
        ...w.vconst(-1),
        ...w.fmul,
        ...expCode(X, N, R, P),
        ...w.fadd,
        ...w.fdiv,
      ],
      hardSigmoid: [
        ...w.get(V),
        ...w.vconst(0.2),
        ...w.fmul,
        ...w.vconst(0.5),
        ...w.fadd,
        ...w.vconst(0),
        ...w.fmax,
        ...w.vconst(1),
        ...w.fmin,
      ],
      relu: [...w.get(V), ...w.vconst(0), ...w.fmax],
      linear: [...w.get(V)],
    };
    return [...w.set(V), ...codes[kind]];
  };

  // funcs 0 and 1, exported as lstm4 and lstm8: lstm(x, batch, T, D, U, w, bias, out, returnSequences, _, _,
  // scratch) (the two unused slots: the module is built for its activations), forming z in blocks of 4·nAcc
  // gates (nAcc = 4 for any units divisible by 4, 8 when divisible by 8: fewer loads
  // of the broadcast row per multiply).
  const lstmBody = (nAcc: number) => {
    const [X, BATCH, T, D, U, W, BIAS, OUT, RETSEQ, SCRATCH] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 11];
    const [b, t, k, jb, u, GB, K, XH, Z, C, WP, XP, XROW, UB] = [
      12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
    ];
    const [S, IG, FG, GG, CV] = [26, 27, 28, 29, 30];
    const A = Array.from({ length: nAcc }, (_, i) => 31 + i);
    const ACT_LOCALS = 31 + nAcc; // six v128 locals for the inlined activations
    const blockBytes = nAcc * 16;
    const g = w.get;
    const inc = (n: number) => w.i32(n);
    const ptr = (base: number, idx: number) => [...g(base), ...g(idx), ...w.i32(2), ...w.shl, ...w.add]; // base + idx*4
    const code: number[] = [
      // GB = 16·U (gate row bytes), UB = 4·U, K = D + U
      ...g(U),
      ...w.i32(4),
      ...w.shl,
      ...w.set(GB),
      ...g(U),
      ...w.i32(2),
      ...w.shl,
      ...w.set(UB),
      ...g(D),
      ...g(U),
      ...w.add,
      ...w.set(K),
      // scratch: xh (K floats, padded to 16 bytes), z (4U), c (U)
      ...g(SCRATCH),
      ...w.set(XH),
      ...g(XH),
      ...g(K),
      ...w.i32(2),
      ...w.shl,
      ...w.i32(15),
      ...w.add,
      ...w.i32(-16),
      ...w.and,
      ...w.add,
      ...w.set(Z),
      ...g(Z),
      ...g(GB),
      ...w.add,
      ...w.set(C),
      ...forLoop(b, w.i32(0), g(BATCH), inc(1), [
        // h = 0 (lives in xh after the inputs), c = 0
        ...forLoop(u, w.i32(0), g(U), inc(1), [
          ...g(XH),
          ...g(D),
          ...g(u),
          ...w.add,
          ...w.i32(2),
          ...w.shl,
          ...w.add,
          ...w.f32const(0),
          ...w.f32store(),
          ...ptr(C, u),
          ...w.f32const(0),
          ...w.f32store(),
        ]),
        ...forLoop(t, w.i32(0), g(T), inc(1), [
          // xrow = x + ((b·T + t)·D)·4
          ...g(X),
          ...g(b),
          ...g(T),
          ...w.mul,
          ...g(t),
          ...w.add,
          ...g(D),
          ...w.mul,
          ...w.i32(2),
          ...w.shl,
          ...w.add,
          ...w.set(XROW),
          ...forLoop(k, w.i32(0), g(D), inc(1), [
            ...ptr(XH, k),
            ...ptr(XROW, k),
            ...w.f32load(),
            ...w.f32store(),
          ]),
          // z = bias + [x_t, h]·W, sixteen gates per pass
          ...forLoop(jb, w.i32(0), g(GB), inc(blockBytes), [
            ...g(BIAS),
            ...g(jb),
            ...w.add,
            ...w.set(WP),
            ...A.flatMap((a, i) => [...g(WP), ...w.vload(16 * i), ...w.set(a)]),
            ...g(W),
            ...g(jb),
            ...w.add,
            ...w.set(WP),
            ...g(XH),
            ...w.set(XP),
            ...forLoop(k, w.i32(0), g(K), inc(1), [
              ...g(XP),
              ...w.vsplatLoad(),
              ...w.set(S),
              ...A.flatMap((a, i) => [
                ...g(a),
                ...g(S),
                ...g(WP),
                ...w.vload(16 * i),
                ...w.fmul,
                ...w.fadd,
                ...w.set(a),
              ]),
              ...g(WP),
              ...g(GB),
              ...w.add,
              ...w.set(WP),
              ...g(XP),
              ...w.i32(4),
              ...w.add,
              ...w.set(XP),
            ]),
            ...g(Z),
            ...g(jb),
            ...w.add,
            ...w.set(WP),
            ...A.flatMap((a, i) => [...g(WP), ...g(a), ...w.vstore(16 * i)]),
          ]),
          // gates, four units at a time; WP reused as the z pointer
          ...forLoop(u, w.i32(0), g(U), inc(4), [
            ...ptr(Z, u),
            ...w.set(WP),
            ...g(WP),
            ...w.vload(0),
            ...actCode(recurrentActivation, ACT_LOCALS),
            ...w.set(IG),
            ...g(WP),
            ...g(UB),
            ...w.add,
            ...w.vload(0),
            ...actCode(recurrentActivation, ACT_LOCALS),
            ...w.set(FG),
            ...g(WP),
            ...g(UB),
            ...w.add,
            ...g(UB),
            ...w.add,
            ...w.vload(0),
            ...actCode(activation, ACT_LOCALS),
            ...w.set(GG),
            // c = f·c + i·g
            ...ptr(C, u),
            ...g(FG),
            ...ptr(C, u),
            ...w.vload(0),
            ...w.fmul,
            ...g(IG),
            ...g(GG),
            ...w.fmul,
            ...w.fadd,
            ...w.tee(CV),
            ...w.vstore(0),
            // h = o·act(c), written after the inputs in xh
            ...g(XH),
            ...g(D),
            ...g(u),
            ...w.add,
            ...w.i32(2),
            ...w.shl,
            ...w.add,
            ...g(WP),
            ...g(UB),
            ...w.i32(3),
            ...w.mul,
            ...w.add,
            ...w.vload(0),
            ...actCode(recurrentActivation, ACT_LOCALS),
            ...g(CV),
            ...actCode(activation, ACT_LOCALS),
            ...w.fmul,
            ...w.tee(S),
            ...w.vstore(0),
            ...g(RETSEQ),
            ...w.ifVoid,
            ...g(OUT),
            ...g(b),
            ...g(T),
            ...w.mul,
            ...g(t),
            ...w.add,
            ...g(U),
            ...w.mul,
            ...g(u),
            ...w.add,
            ...w.i32(2),
            ...w.shl,
            ...w.add,
            ...g(S),
            ...w.vstore(0),
            ...w.end,
          ]),
        ]),
        ...g(RETSEQ),
        ...w.eqz,
        ...w.ifVoid,
        ...forLoop(u, w.i32(0), g(U), inc(1), [
          ...g(OUT),
          ...g(b),
          ...g(U),
          ...w.mul,
          ...g(u),
          ...w.add,
          ...w.i32(2),
          ...w.shl,
          ...w.add,
          ...g(XH),
          ...g(D),
          ...g(u),
          ...w.add,
          ...w.i32(2),
          ...w.shl,
          ...w.add,
          ...w.f32load(),
          ...w.f32store(),
        ]),
        ...w.end,
      ]),
    ];
    return {
      locals: [
        [14, I32],
        [5 + nAcc + 6, V128],
      ] as Array<[number, number]>,
      code,
    };
  };

  const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
  const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
  const funcType = (params: number[], results: number[]) => [
    0x60,
    ...vec(params.map((p) => [p])),
    ...vec(results.map((r) => [r])),
  ];
  const types = [funcType(Array(12).fill(I32), [])];
  const body = (f: { locals: Array<[number, number]>; code: number[] }) => {
    const inner = [...vec(f.locals.map(([n, type]) => [...uleb(n), type])), ...f.code, 0x0b];
    return [...uleb(inner.length), ...inner];
  };
  const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'utf8')];
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec(types)),
    ...section(3, vec([[0], [0]])),
    ...section(5, vec([[0x00, ...uleb(1)]])),
    ...section(
      7,
      vec([
        [...name('memory'), 0x02, 0],
        [...name('lstm4'), 0x00, 0],
        [...name('lstm8'), 0x00, 1],
      ])
    ),
    ...section(10, vec([body(lstmBody(4)), body(lstmBody(8))])),
  ];
  return new Uint8Array(bytes);
}
