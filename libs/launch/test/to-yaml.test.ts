/**
 * toYaml, the manifests' writer (the `yaml` package, configured): whatever it writes reads back as the same
 * values under YAML 1.2 and YAML 1.1; strings stay strings; scripts stay readable literal blocks.
 */
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { toYaml } from '../src/index.ts';
import { COORDINATOR_SCRIPT } from '../src/k8s.ts';

/** Every document of `text`, read as YAML `version`; a parse error fails the test. */
function read(text: string, version: '1.1' | '1.2'): unknown[] {
  return parseAllDocuments(text, { version }).map((d) => {
    if (d.errors.length > 0) throw new Error(`YAML ${version}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS();
  });
}

/** Strings a careless writer leaves plain and some YAML reader then takes for a number, boolean, null or date. */
const LOOK_ALIKES = [
  '', ' ', ' lead', 'trail ', '1', '2', '0', '-1', '+1', '1.5', '.5', '1e3', '1_000', '0755', '0o17', '0x1F', '0b101', '1:20', '190:20:30',
  '.inf', '-.Inf', '.nan', 'true', 'True', 'FALSE', 'yes', 'No', 'on', 'OFF', 'y', 'n', 'Y', 'N', 'null', 'Null', '~',
  '2024-01-01', '2001-12-14t21:59:43.10-05:00', '=', '<<', '!tag', '&anchor', '*alias', '#comment', '- item', '? key', 'a: b', 'a #b',
  '[x]', '{x}', '"quoted"', "'single'", '|', '>', '%YAML', '@at', '`tick`', 'tab\there', 'back\\slash', 'ünïcödé', '—',
];

describe('toYaml (the yaml package, set up for Kubernetes manifests)', () => {
  it('writes strings that look like other types so that YAML 1.2 and 1.1 both read them back as the same strings', () => {
    const value = { values: LOOK_ALIKES, keys: Object.fromEntries(LOOK_ALIKES.map((s, i) => [s, i])) };
    const text = toYaml([value]);
    for (const version of ['1.2', '1.1'] as const) expect(read(text, version), `YAML ${version}`).to.deep.equal([value]);
  });

  it('leaves plain words, paths, URLs and quantities unquoted', () => {
    const text = toYaml([{ image: 'registry.example.com/nbm:0.1.0', memory: '16Gi', cpu: '100m', flag: '--epochs', url: 'tcp://nbm-coordinator:5555', path: '/etc/nbm/keys', ref: '$(POD_IP)' }]);
    expect(text).to.equal(
      'image: registry.example.com/nbm:0.1.0\nmemory: 16Gi\ncpu: 100m\nflag: --epochs\nurl: tcp://nbm-coordinator:5555\npath: /etc/nbm/keys\nref: $(POD_IP)\n',
    );
  });

  it('writes numbers, booleans, null and empty containers as themselves, and leaves out undefined fields', () => {
    const value = { count: 4, x: -0.25, t: true, f: false, z: null, list: [], map: {}, gone: undefined };
    const text = toYaml([value]);
    expect(text).to.equal('count: 4\nx: -0.25\nt: true\nf: false\nz: null\nlist: []\nmap: {}\n');
    for (const version of ['1.2', '1.1'] as const) expect(read(text, version)).to.deep.equal([{ count: 4, x: -0.25, t: true, f: false, z: null, list: [], map: {} }]);
  });

  it('refuses numbers that are not finite', () => {
    for (const n of [Infinity, -Infinity, NaN]) expect(() => toYaml([{ n }]), String(n)).to.throw(TypeError, /is not a finite number/);
  });

  it('writes a multi-line script as a literal block that reads back exactly', () => {
    const value = { command: ['/bin/sh', '-c', COORDINATOR_SCRIPT, 'nbm-coordinator'], noNewlineAtEnd: 'a\nb' };
    const text = toYaml([value]);
    expect(text).to.contain('  - |\n    if [ -f "$NBM_RUN/config.json" ]; then\n      exec nbm train --resume "$NBM_RUN" "$@"\n    fi\n');
    expect(text).to.contain('noNewlineAtEnd: |-\n  a\n  b\n');
    for (const version of ['1.2', '1.1'] as const) expect(read(text, version)).to.deep.equal([value]);
  });

  it('does not fold long lines', () => {
    const long = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    expect(toYaml([{ long }])).to.equal(`long: ${long}\n`);
  });

  it('writes an object used twice in full both times (no anchors or aliases), nesting lists under their keys', () => {
    const shared = { capabilities: { drop: ['ALL'] } };
    const text = toYaml([{ a: shared, b: shared }]);
    expect(text).to.equal('a:\n  capabilities:\n    drop:\n      - ALL\nb:\n  capabilities:\n    drop:\n      - ALL\n');
  });

  it('separates several documents with ---', () => {
    const docs = [{ kind: 'Service' }, { kind: 'Job', spec: { completions: 2 } }];
    const text = toYaml(docs);
    expect(text).to.equal('kind: Service\n---\nkind: Job\nspec:\n  completions: 2\n');
    expect(read(text, '1.2')).to.deep.equal(docs);
  });
});
