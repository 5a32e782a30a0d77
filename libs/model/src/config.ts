/** Visible unit type: real-valued Gaussian units (eq. 5) or ±1 Ising units (eq. 6). */
export type VisibleType = 'gaussian' | 'ising';

/** The shape of an NBM: sizes and the hidden-layer width of the bias and precision networks. */
export interface ModelConfig {
  /** context size */
  readonly nx: number;
  /** visible size */
  readonly ny: number;
  /** hidden units */
  readonly nh: number;
  /** width of the hidden layer of the bias and precision networks (the paper: 32) */
  readonly width: number;
  readonly visible: VisibleType;
}

/** Log-precision is clipped to [ln pmin, ln pmax] as the official PrecisionNet does. */
export const LOG_PRECISION_MIN = Math.log(1e-3);
export const LOG_PRECISION_MAX = Math.log(1e3);

export function validateModelConfig(c: ModelConfig): void {
  for (const k of ['nx', 'ny', 'nh', 'width'] as const) {
    const v = c[k];
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`model ${k} must be a positive integer, got ${v}`);
  }
  if (c.visible !== 'gaussian' && c.visible !== 'ising') {
    throw new RangeError(`visible must be 'gaussian' or 'ising', got '${String(c.visible)}'`);
  }
}
