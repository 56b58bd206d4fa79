/**
 * The forecaster's forward pass without TensorFlow.js: the weights of a loaded Sequential model (LSTM and
 * Dense layers, any sizes) copied once into a small WebAssembly SIMD kernel. tfjs stays the reference: it
 * trains the model, and the tests hold this path to it within 1e-5.
 *
 * Why: tfjs runs an LSTM as a dozen small tensor ops per time step, each with dispatch and allocation
 * cost; the whole network is ~230 kFLOP per series, which one tight loop over registers does several times
 * faster.
 */
import type { tf } from '../tf';
import { WasmNetwork } from './kernel';
import { UnsupportedModelError, type NetworkSpec } from './types';
import { extractNetwork } from './weights';

export type { ActivationName, DenseLayerSpec, LayerSpec, LstmLayerSpec, NetworkSpec } from './types';
export { UnsupportedModelError } from './types';
export { extractNetwork } from './weights';
export { forwardJs } from './reference';
export { WasmNetwork } from './kernel';

/** Identity of the weight tensors a network was extracted from: setWeights replaces them. */
function weightIdentity(model: tf.LayersModel): unknown[] {
  return model.weights.map((v) => (v.read() as unknown as { dataId: unknown }).dataId);
}

/**
 * The fast path for one tfjs model. Weights are copied at construction; if the model's weights are replaced
 * afterwards (setWeights, further training), the next predict notices and copies them again.
 */
export class FastLstm {
  private network: WasmNetwork;
  private identity: unknown[];

  private constructor(private readonly model: tf.LayersModel) {
    this.network = new WasmNetwork(extractNetwork(model));
    this.identity = weightIdentity(model);
  }

  /** The fast path for `model`, or the reason it cannot have one. */
  static tryFrom(model: tf.LayersModel): FastLstm | UnsupportedModelError {
    try {
      return new FastLstm(model);
    } catch (e) {
      if (e instanceof UnsupportedModelError) return e;
      if (e instanceof WebAssembly.CompileError || e instanceof WebAssembly.RuntimeError) {
        return new UnsupportedModelError(`WebAssembly SIMD unavailable: ${(e as Error).message}`);
      }
      throw e;
    }
  }

  get spec(): NetworkSpec {
    return this.network.spec;
  }

  predict(input: Float32Array, batch: number): Float32Array {
    const now = weightIdentity(this.model);
    if (now.length !== this.identity.length || now.some((id, i) => id !== this.identity[i])) {
      this.network = new WasmNetwork(extractNetwork(this.model));
      this.identity = now;
    }
    return this.network.predict(input, batch);
  }
}
