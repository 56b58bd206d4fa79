/**
 * The last answers of `/api/forecast` and `/api/anomalies`, sent again while what they were computed from
 * is unchanged.
 *
 * A dashboard refreshes every 30 s or so, and the data source asks on the model's 10-minute grid: most
 * refreshes evaluate Prometheus at the same instants as the one before and get the same values back (the
 * history from the history cache, the last 10 minutes read again). Forecasting or scoring 1000 series
 * again from the same values gives the same bytes. So each answer is kept with the series it was computed
 * from and the model that made it, and a request whose inputs are equal, series by series and sample by
 * sample (bit for bit), gets the kept bytes. Nothing is assumed about the data: one value that differs, one
 * series more or less, or another model, and the answer is computed again.
 *
 * Inputs are read before the lookup, so an answer is never older than the data the request reads.
 * Bounded by `maxBytes` (the buffers the kept series view, and the bodies), least recently used dropped
 * first.
 */
import { ByteLru } from '../lru';
import { bytesHeld, sameBits } from '../series/columns';
import { labelsKey } from '../series/labels';
import type { ColumnSeries } from '../series/types';

interface Kept {
  model: object;
  /** The series the answer was computed from: their labels and arrays, not copies (no one writes into them). */
  inputs: ColumnSeries[];
  body: Buffer;
  bytes: number;
}

/** What an entry costs beyond its arrays and body: the objects and the key. */
const ENTRY_BYTES = 300;

export class AnswerMemo {
  private readonly kept: ByteLru<Kept>;

  constructor(maxBytes: number) {
    this.kept = new ByteLru(maxBytes);
  }

  get size(): { bytes: number; entries: number } {
    return this.kept.size;
  }

  /** The answer kept under `key`, if `model` computed it from inputs equal to `inputs`. */
  get(key: string, model: object, inputs: readonly ColumnSeries[]): Buffer | undefined {
    const kept = this.kept.peek(key);
    if (!kept || kept.model !== model || !sameInputs(kept.inputs, inputs)) return undefined;
    this.kept.touch(key);
    return kept.body;
  }

  /**
   * Keeps `body` as `model`'s answer for `inputs` under `key` (replacing what was there). The inputs are
   * kept as they are: typed arrays that sources and the history cache never write into once answered.
   */
  set(key: string, model: object, inputs: readonly ColumnSeries[], body: Buffer): void {
    // Only what the comparison reads: labels, times and values (not the sample text and the answer it
    // points into). Counted as every buffer they keep alive, even where the history cache holds the same
    // ones: the bound holds when the cache drops them.
    const kept = inputs.map((s) => ({ labels: s.labels, times: s.times, values: s.values }));
    const bytes = ENTRY_BYTES + 2 * key.length + bytesHeld(kept) + body.length;
    this.kept.set(key, { model, inputs: kept, body, bytes });
  }

  clear(): void {
    this.kept.clear();
  }
}

/** Whether `inputs` are the kept ones: same series in the same order, the same samples bit for bit. */
function sameInputs(kept: readonly ColumnSeries[], inputs: readonly ColumnSeries[]): boolean {
  if (inputs.length !== kept.length) return false;
  for (let i = 0; i < inputs.length; i++) {
    const a = inputs[i];
    const b = kept[i];
    if (a.times.length !== b.times.length) return false;
    if (a.labels !== b.labels && labelsKey(a.labels) !== labelsKey(b.labels)) return false;
    if (!sameBits(a.times, b.times) || !sameBits(a.values, b.values)) return false;
  }
  return true;
}
