import { expect } from 'chai';
import { execFileSync } from 'node:child_process';

/**
 * In a fresh process (another test may have loaded the registration already), importing @nbm/kernels alone
 * must register the native engine: the registry finds it by name, and `auto` prefers it to the tfjs path.
 */
describe('importing @nbm/kernels registers the native engine', () => {
  it('resolveEngine finds native by name and takes it for auto', function () {
    this.timeout(20000);
    const script = [
      "const { resolveEngine } = await import('@nbm/model');",
      "await import('@nbm/kernels');",
      "const named = await resolveEngine('native', 'train', '--engine');",
      "const auto = await resolveEngine('auto', 'train', '--engine');",
      'console.log(JSON.stringify({ named: named.name, auto: auto.name }));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: import.meta.dirname, encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').pop()!)).to.deep.equal({ named: 'native', auto: 'native' });
  });
});
