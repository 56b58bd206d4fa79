/** The compiled network: LSTM layers in WebAssembly kernel instances, Dense layers in JavaScript. */
import { forward } from './reference';
import {
  UnsupportedModelError,
  type ActivationName,
  type LayerSpec,
  type LstmLayerSpec,
  type NetworkSpec,
} from './types';
import { buildKernel } from './wasm-emitter';

const kernelModules = new Map<string, WebAssembly.Module>();

/** The kernel for one pair of activations, compiled once per process. */
function kernel(activation: ActivationName, recurrentActivation: ActivationName): WebAssembly.Module {
  const key = `${activation}/${recurrentActivation}`;
  let m = kernelModules.get(key);
  if (!m) {
    m = new WebAssembly.Module(buildKernel(activation, recurrentActivation));
    kernelModules.set(key, m);
  }
  return m;
}

type LstmExport = (...args: number[]) => void;

const align16 = (n: number) => (n + 15) & ~15;

/** One LSTM layer's kernel instance, its weights in that instance's memory. */
class LstmKernel {
  private readonly memory: WebAssembly.Memory;
  private readonly run: LstmExport;
  private readonly kernelAt = 64;
  private readonly biasAt: number;
  private readonly scratch: number;
  private readonly dynamicStart: number;

  constructor(private readonly layer: LstmLayerSpec) {
    if (layer.units % 4 !== 0) {
      throw new UnsupportedModelError(`LSTM with ${layer.units} units: the kernel needs a multiple of 4`);
    }
    const instance = new WebAssembly.Instance(kernel(layer.activation, layer.recurrentActivation), {});
    this.memory = instance.exports.memory as WebAssembly.Memory;
    this.run = (layer.units % 8 === 0 ? instance.exports.lstm8 : instance.exports.lstm4) as LstmExport;
    this.biasAt = align16(this.kernelAt + layer.kernel.byteLength);
    this.scratch = align16(this.biasAt + layer.bias.byteLength);
    // xh (inputs then h, padded), z (4·units), c (units)
    this.dynamicStart = align16(
      this.scratch + align16((layer.inputDim + layer.units) * 4) + 20 * layer.units + 64
    );
    this.ensure(this.dynamicStart);
    new Float32Array(this.memory.buffer, this.kernelAt, layer.kernel.length).set(layer.kernel);
    new Float32Array(this.memory.buffer, this.biasAt, layer.bias.length).set(layer.bias);
  }

  private ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / 65536));
  }

  forward(x: Float32Array, batch: number, T: number): Float32Array {
    const layer = this.layer;
    const outLen = batch * (layer.returnSequences ? T : 1) * layer.units;
    const inAt = this.dynamicStart;
    const outAt = align16(inAt + x.byteLength);
    this.ensure(outAt + outLen * 4);
    new Float32Array(this.memory.buffer, inAt, x.length).set(x);
    this.run(
      inAt,
      batch,
      T,
      layer.inputDim,
      layer.units,
      this.kernelAt,
      this.biasAt,
      outAt,
      layer.returnSequences ? 1 : 0,
      0,
      0,
      this.scratch
    );
    return new Float32Array(this.memory.buffer, outAt, outLen).slice();
  }
}

/**
 * A compiled network: each LSTM layer runs in its own instance of the kernel (built for its activations),
 * Dense layers in JavaScript. Not shareable across threads; the modules compile once per process.
 */
export class WasmNetwork {
  private readonly kernels: Map<LayerSpec, LstmKernel>;

  constructor(readonly spec: NetworkSpec) {
    this.kernels = new Map(
      spec.layers.flatMap((l) =>
        l.kind === 'lstm' ? [[l, new LstmKernel(l)] as [LayerSpec, LstmKernel]] : []
      )
    );
  }

  /** `input` is batch × timesteps × features; answers batch × outputSize. */
  predict(input: Float32Array, batch: number): Float32Array {
    if (batch === 0 && input.length === 0) return new Float32Array(0);
    return forward(this.spec, input, batch, (layer, x) =>
      this.kernels.get(layer)!.forward(x, batch, this.spec.timesteps)
    );
  }
}
