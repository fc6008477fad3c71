// Policy compile cost (issue 14): 1,000 rules against 1,000 identities compiled into one
// endpoint's policy-map entries (the agent does this per local endpoint on every policy or
// identity change), then encoded to the BPF key/value bytes it writes. Input: synthetic policies
// and identities generated here (not the lab's). Every rule selects the endpoint; each names
// ~1% of the identities as peers on a port or a port range, a tenth of them as denies.
// Figures: median over rounds; target: compile + encode (policies -> map entries, what the agent
// redoes on every identity or policy change) under 1 s. Parsing the YAML is reported apart: it
// happens once per apply. Baseline in the same run: one rule against the same identities.
import {
  compileEndpoint,
  parsePolicies,
  podIdentityLabels,
  policyKey,
  policyValue,
  type IdentityInfo,
  type StoredPolicyLike,
} from '@wirescope/policy';

const RULES = Number(process.env.BENCH_RULES ?? 1000);
const IDENTITIES = Number(process.env.BENCH_IDENTITIES ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const RULES_PER_POLICY = 10;

const identities: IdentityInfo[] = Array.from({ length: IDENTITIES }, (_, i) => ({
  id: 256 + i,
  labels: podIdentityLabels(`ns-${i % 10}`, {
    app: `svc-${i}`,
    team: `t-${i % 100}`,
    tier: i % 2 ? 'web' : 'db',
  }),
}));
const endpoint = podIdentityLabels('ns-0', { app: 'target', team: 't-0', tier: 'db' });

function policyText(p: number, rules: number): string {
  const specs: string[] = [];
  for (let r = 0; r < rules; r++) {
    const n = p * RULES_PER_POLICY + r;
    const section = n % 10 === 9 ? 'ingressDeny' : 'ingress';
    const ports =
      n % 3 === 0
        ? `{port: "${8000 + (n % 500)}", endPort: ${8000 + (n % 500) + 37}, protocol: TCP}`
        : `{port: "${1000 + (n % 4000)}", protocol: ${n % 2 ? 'TCP' : 'UDP'}}`;
    specs.push(`  - endpointSelector: {matchLabels: {tier: db}}
    ${section}:
    - fromEndpoints:
      - matchLabels: {team: t-${n % 100}}
        matchExpressions: [{key: io.kubernetes.pod.namespace, operator: Exists}]
      toPorts: [{ports: [${ports}]}]`);
  }
  return `apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: bench-${p}}
specs:
${specs.join('\n')}
`;
}

function generate(rules: number): string[] {
  const texts: string[] = [];
  for (let p = 0; p * RULES_PER_POLICY < rules; p++)
    texts.push(policyText(p, Math.min(RULES_PER_POLICY, rules - p * RULES_PER_POLICY)));
  return texts;
}

interface Run {
  parseMs: number;
  compileMs: number;
  encodeMs: number;
  entries: number;
  bytes: number;
}

let sink = 0;
function once(texts: string[]): Run {
  const t0 = process.hrtime.bigint();
  const policies: StoredPolicyLike[] = texts.flatMap((t, i) =>
    parsePolicies(t, `bench-${i}.yaml`).map((p) => ({ ...p, revision: i + 1 })),
  );
  const t1 = process.hrtime.bigint();
  const compiled = compileEndpoint(endpoint, policies, identities);
  const t2 = process.hrtime.bigint();
  let bytes = 0;
  for (const e of compiled.entries) {
    const key = policyKey(7, e);
    const value = policyValue(e, 1);
    bytes += key.length + value.length;
    sink += key[0]! + value[0]!;
  }
  const t3 = process.hrtime.bigint();
  const ms = (a: bigint, b: bigint) => Number(b - a) / 1e6;
  return {
    parseMs: ms(t0, t1),
    compileMs: ms(t1, t2),
    encodeMs: ms(t2, t3),
    entries: compiled.entries.length,
    bytes,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function measure(texts: string[]) {
  once(texts); // warm-up
  const runs = Array.from({ length: ROUNDS }, () => once(texts));
  return {
    parseMs: median(runs.map((r) => r.parseMs)),
    compileMs: median(runs.map((r) => r.compileMs)),
    encodeMs: median(runs.map((r) => r.encodeMs)),
    totalMs: median(runs.map((r) => r.compileMs + r.encodeMs)),
    entries: runs[0]!.entries,
    bytes: runs[0]!.bytes,
  };
}

const full = measure(generate(RULES));
const one = measure(generate(1));
// An LPM trie node in the kernel: struct lpm_trie_node (~32 B incl. rcu head, child pointers,
// prefixlen, flags) + the key data (12 B) + the value (12 B), allocated from kmalloc-64.
const KERNEL_NODE_BYTES = 64;
console.log(
  `policy compile: ${RULES} rules x ${IDENTITIES} identities (synthetic), median of ${ROUNDS} rounds`,
);
console.log(
  `  compile ${full.compileMs.toFixed(1)} ms + encode ${full.encodeMs.toFixed(1)} ms = ${full.totalMs.toFixed(1)} ms (parsing the YAML once per apply: ${full.parseMs.toFixed(1)} ms)`,
);
console.log(
  `  ${full.entries} map entries, ${(full.bytes / 1024).toFixed(1)} KiB of keys+values, ~${((full.entries * 2 * KERNEL_NODE_BYTES) / 1024).toFixed(0)} KiB of kernel LPM-trie memory (leaf + intermediate node per entry, estimated)`,
);
console.log(
  `  baseline (1 rule, same identities): total ${one.totalMs.toFixed(2)} ms, ${one.entries} entries`,
);
const ok = full.totalMs < 1000 && full.entries <= 65536;
console.log(
  `policy_compile_ms=${full.totalMs.toFixed(1)} entries=${full.entries} ratio_vs_one_rule=${(full.totalMs / one.totalMs).toFixed(1)} target_ms=1000 ${ok ? 'PASS' : 'FAIL'}${sink < 0 ? '' : ''}`,
);
process.exitCode = ok ? 0 : 1;
