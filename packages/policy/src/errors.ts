/** The policy package's one error-code table. */
export const PolicyErrorCode = {
  /** the text is not YAML, or a document is not a policy object */
  INVALID_DOCUMENT: 'INVALID_DOCUMENT',
  /** a field of Cilium's API that Wirescope does not implement: refused, never half-applied */
  NOT_IMPLEMENTED: 'NOT_IMPLEMENTED',
  /** a field that is not part of the CiliumNetworkPolicy API at all */
  UNKNOWN_FIELD: 'UNKNOWN_FIELD',
  /** a known field with a value of the wrong type or out of range */
  INVALID_VALUE: 'INVALID_VALUE',
} as const;
export type PolicyErrorCode = (typeof PolicyErrorCode)[keyof typeof PolicyErrorCode];

/** One problem of a policy file, located as `file:line` with the field's path in the document. */
export interface PolicyProblem {
  code: PolicyErrorCode;
  file: string;
  line: number;
  /** e.g. spec.ingress[0].fromCIDR */
  field: string;
  message: string;
}

export function formatProblem(p: PolicyProblem): string {
  return `${p.file}:${p.line}: ${p.field ? `${p.field}: ` : ''}${p.message}`;
}

/** Every problem of a file at once: a document with any problem is refused whole. */
export class PolicyError extends Error {
  override name = 'PolicyError';
  readonly code: PolicyErrorCode;
  constructor(readonly problems: PolicyProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.code = problems[0]?.code ?? PolicyErrorCode.INVALID_DOCUMENT;
  }
}
