/** A path that is not the run directory or checkpoint it should be; the message names the path and what to do. */
export class RunDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunDirError';
  }
}
