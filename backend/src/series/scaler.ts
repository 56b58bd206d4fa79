/** Min-max scaling to [0, 1]. Its parameters are plain data so they travel with a model or a report. */

export interface MinMaxParams {
  min: number;
  max: number;
}

export class MinMaxScaler {
  readonly min: number;
  readonly max: number;

  constructor(params: MinMaxParams) {
    this.min = params.min;
    this.max = params.max;
  }

  /** Fits on finite values; throws on none. A constant input gets range 0 (see `isConstant`). */
  static fit(values: ArrayLike<number>): MinMaxScaler {
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (min === Infinity) throw new RangeError('cannot fit a scaler on no finite values');
    return new MinMaxScaler({ min, max });
  }

  get range(): number {
    return this.max - this.min;
  }

  get isConstant(): boolean {
    return !(this.range > 0);
  }

  /** A constant series maps to 0 rather than dividing by zero. */
  transform(v: number): number {
    return this.isConstant ? 0 : (v - this.min) / this.range;
  }

  inverse(s: number): number {
    return this.isConstant ? this.min : this.min + s * this.range;
  }

  transformAll(values: readonly number[]): number[] {
    return values.map((v) => this.transform(v));
  }

  toJSON(): MinMaxParams {
    return { min: this.min, max: this.max };
  }
}
