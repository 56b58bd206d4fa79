/**
 * A file-system IOHandler for the standard TensorFlow.js layers format (`model.json` + weight shards,
 * what `tensorflowjs_converter` writes from a Keras .h5), so the wasm backend can load and save models
 * without tfjs-node. Every failure names the file and what is wrong with it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { io } from '@tensorflow/tfjs';

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, float16: 2 };

export class ModelFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFileError';
  }
}

interface ModelJson {
  modelTopology: unknown;
  weightsManifest: Array<{ paths: string[]; weights: io.WeightsManifestEntry[] }>;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

function readModelJson(file: string): ModelJson {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ModelFileError(`cannot read ${file}: ${(e as Error).message}`);
  }
  let json: ModelJson;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (!json || typeof json !== 'object' || !json.modelTopology) {
    throw new ModelFileError(`${file} has no modelTopology: not a TensorFlow.js layers model`);
  }
  if (!Array.isArray(json.weightsManifest)) {
    throw new ModelFileError(`${file} has no weightsManifest`);
  }
  return json;
}

export function fileSystemHandler(dir: string): io.IOHandler {
  const modelFile = path.join(dir, 'model.json');
  return {
    async load(): Promise<io.ModelArtifacts> {
      const json = readModelJson(modelFile);
      const weightSpecs: io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of json.weightsManifest) {
        weightSpecs.push(...group.weights);
        for (const p of group.paths) {
          const shard = path.join(dir, p);
          try {
            buffers.push(fs.readFileSync(shard));
          } catch (e) {
            throw new ModelFileError(`cannot read weight shard ${shard}: ${(e as Error).message}`);
          }
        }
      }
      const data = Buffer.concat(buffers);
      const expected = weightSpecs.reduce((n, w) => {
        const bytes = w.quantization ? DTYPE_BYTES[w.quantization.dtype] : DTYPE_BYTES[w.dtype];
        return n + w.shape.reduce((a, b) => a * b, 1) * (bytes ?? 4);
      }, 0);
      if (data.byteLength !== expected) {
        throw new ModelFileError(
          `weights in ${dir} hold ${data.byteLength} bytes but model.json describes ${expected}: truncated or mismatched shards`
        );
      }
      return {
        modelTopology: json.modelTopology as io.ModelArtifacts['modelTopology'],
        weightSpecs,
        weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy ?? undefined,
      };
    },

    async save(artifacts: io.ModelArtifacts): Promise<io.SaveResult> {
      fs.mkdirSync(dir, { recursive: true });
      const weightData = artifacts.weightData;
      const bytes = Array.isArray(weightData)
        ? Buffer.concat(weightData.map((b) => Buffer.from(b)))
        : Buffer.from(weightData ?? new ArrayBuffer(0));
      const json: ModelJson = {
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
      };
      // Write to temporary names and rename, so a crash never leaves a model.json whose weights are missing.
      const tmpWeights = path.join(dir, 'weights.bin.tmp');
      const tmpModel = path.join(dir, 'model.json.tmp');
      fs.writeFileSync(tmpWeights, bytes);
      fs.writeFileSync(tmpModel, JSON.stringify(json));
      fs.renameSync(tmpWeights, path.join(dir, 'weights.bin'));
      fs.renameSync(tmpModel, modelFile);
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          weightDataBytes: bytes.byteLength,
        },
      };
    },
  };
}
