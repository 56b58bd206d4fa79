/** The plain JavaScript forward pass (any sizes; the reference the kernel is checked against too). */
import type { ActivationName, DenseLayerSpec, LstmLayerSpec, NetworkSpec } from './types';

function applyScalar(kind: ActivationName, v: number): number {
  switch (kind) {
    case 'linear':
      return v;
    case 'tanh':
      return Math.tanh(v);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-v));
    case 'hardSigmoid':
      return Math.min(1, Math.max(0, 0.2 * v + 0.5));
    case 'relu':
      return Math.max(0, v);
  }
}

function denseForward(layer: DenseLayerSpec, input: Float32Array, rows: number): Float32Array {
  const { inputDim: D, units: N, kernel, bias, activation } = layer;
  const out = new Float32Array(rows * N);
  const acc = new Float64Array(N);
  for (let r = 0; r < rows; r++) {
    acc.set(bias);
    for (let d = 0; d < D; d++) {
      const v = input[r * D + d];
      if (v === 0) continue;
      const wo = d * N;
      for (let n = 0; n < N; n++) acc[n] += v * kernel[wo + n];
    }
    for (let n = 0; n < N; n++) out[r * N + n] = applyScalar(activation, acc[n]);
  }
  return out;
}

function lstmForwardJs(layer: LstmLayerSpec, input: Float32Array, batch: number, T: number): Float32Array {
  const { inputDim: D, units: U, kernel, bias } = layer;
  const G = 4 * U;
  const out = new Float32Array(batch * (layer.returnSequences ? T : 1) * U);
  const z = new Float64Array(G);
  const h = new Float64Array(U);
  const c = new Float64Array(U);
  for (let b = 0; b < batch; b++) {
    h.fill(0);
    c.fill(0);
    for (let t = 0; t < T; t++) {
      z.set(bias);
      const xo = (b * T + t) * D;
      for (let d = 0; d < D; d++) {
        const v = input[xo + d];
        const wo = d * G;
        for (let j = 0; j < G; j++) z[j] += v * kernel[wo + j];
      }
      for (let k = 0; k < U; k++) {
        const v = h[k];
        const wo = (D + k) * G;
        for (let j = 0; j < G; j++) z[j] += v * kernel[wo + j];
      }
      for (let u = 0; u < U; u++) {
        const i = applyScalar(layer.recurrentActivation, z[u]);
        const f = applyScalar(layer.recurrentActivation, z[U + u]);
        const g = applyScalar(layer.activation, z[2 * U + u]);
        const o = applyScalar(layer.recurrentActivation, z[3 * U + u]);
        c[u] = f * c[u] + i * g;
        h[u] = o * applyScalar(layer.activation, c[u]);
      }
      if (layer.returnSequences) out.set(h, (b * T + t) * U);
    }
    if (!layer.returnSequences) out.set(h, b * U);
  }
  return out;
}

/** The forward pass in plain JavaScript (float64 arithmetic): `input` is batch × timesteps × features. */
export function forwardJs(spec: NetworkSpec, input: Float32Array, batch: number): Float32Array {
  return forward(spec, input, batch, (layer, x) => lstmForwardJs(layer, x, batch, spec.timesteps));
}

/** The forward pass with `lstm` running the LSTM layers; Dense layers run in JavaScript. */
export function forward(
  spec: NetworkSpec,
  input: Float32Array,
  batch: number,
  lstm: (layer: LstmLayerSpec, x: Float32Array) => Float32Array
): Float32Array {
  if (input.length !== batch * spec.timesteps * spec.features) {
    throw new RangeError(
      `input holds ${input.length} values, ${batch}×${spec.timesteps}×${spec.features} expected`
    );
  }
  let x = input;
  let rows = batch * spec.timesteps; // rows of the last axis, for Dense layers
  for (const layer of spec.layers) {
    if (layer.kind === 'lstm') {
      x = lstm(layer, x);
      rows = layer.returnSequences ? batch * spec.timesteps : batch;
    } else {
      x = denseForward(layer, x, rows);
    }
  }
  return x;
}
