/**
 * The body of {@link validationNll}'s child process: `nll-child.ts CHECKPOINT [LIMIT]` runs one
 * `@nbm/evaluate` call on the validation split (the light AIS of NLL_AIS, no baseline) and prints `{"nll": …}` or `{"error": …}` as its last line.
 */
const [file, limitText] = process.argv.slice(2);
try {
  const { evaluate } = await import('@nbm/evaluate');
  const { NLL_AIS } = await import('./nll.ts');
  const report = await evaluate({
    checkpoint: file, split: 'val', limit: limitText ? Number(limitText) : undefined,
    aisChains: NLL_AIS.chains, aisSteps: NLL_AIS.steps, baseline: false,
  });
  process.stdout.write(JSON.stringify({ nll: -report.loglik_nats }) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ error: `${(e as Error).name}: ${(e as Error).message}` }) + '\n');
  process.exitCode = 1;
}
