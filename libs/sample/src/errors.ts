/**
 * The one error type of @nbm/sample for a request that cannot be carried out as asked: a bad flag value, a
 * checkpoint that does not say what model it holds, contexts that do not fit the model, an output directory in
 * the way, a resume that does not match what was started. The message names the problem and, where there is one,
 * the fix. (Unreadable files keep their own types: DataFileError, CheckpointError.)
 */
export class SampleError extends Error {
  override readonly name = 'SampleError';
  constructor(message: string) {
    super(message);
  }
}
