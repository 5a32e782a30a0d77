import { initAdamW, initParameters, type AdamWState, type ModelConfig, type Parameters } from '@nbm/model';
import type { TrainConfig } from './config.ts';

/**
 * Everything a run carries from step to step. With the keyed random streams this is the whole state: a run
 * restored from it continues exactly as if it had never stopped.
 */
export interface TrainState {
  readonly params: Parameters;
  readonly optimizer: AdamWState;
  /** the epoch of the next step */
  epoch: number;
  /** the next step's index within its epoch */
  stepInEpoch: number;
  /** optimiser steps taken so far (skipped non-finite steps included) */
  globalStep: number;
  /** consecutive steps skipped for a non-finite gradient */
  nonFiniteRun: number;
}

export function modelConfigOf(c: TrainConfig, nx: number, ny: number): ModelConfig {
  return { nx, ny, nh: c.hidden, width: c.width, visible: c.visible };
}

export function initialState(c: TrainConfig, model: ModelConfig): TrainState {
  const params = initParameters(model, c.seed);
  return { params, optimizer: initAdamW(params), epoch: 0, stepInEpoch: 0, globalStep: 0, nonFiniteRun: 0 };
}
