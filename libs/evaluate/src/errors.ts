/**
 * A request `evaluate` cannot carry out, named precisely: a missing or unusable checkpoint, a data set that does
 * not fit the model, an option out of range (e.g. exact enumeration for nh > 20). The CLI reports it as a usage
 * error, without a stack trace.
 */
export class EvalError extends Error {
  override readonly name = 'EvalError';
}
