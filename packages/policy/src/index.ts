// @wirescope/policy: the CiliumNetworkPolicy subset, parsed strictly, compiled to the BPF
// policy map's entries, and evaluated in userspace exactly as the datapath does.
export { PolicyError, PolicyErrorCode, formatProblem, type PolicyProblem } from './errors.js';
export * from './types.js';
export { loadPolicyFiles, policyFilesOf } from './files.js';
export { parsePolicies, parseLabelKey, NAMESPACE_LABEL, REQUIRE_ENCRYPTION_ANNOTATION } from './parse.js';
export { selects, podIdentityLabels, type IdentityLabels } from './selector.js';
export {
  compileEndpoint,
  peerIdentities,
  portPrefixes,
  refOf,
  RESERVED,
  type CompileOptions,
  type CompiledEndpoint,
  type Direction,
  type DirectionState,
  type IdentityInfo,
  type PolicyEntry,
  type StoredPolicyLike,
} from './compile.js';
export { PolicyLookup, MatchType, DropReason, l4PrefixLength, type Verdict } from './lookup.js';
export {
  policyKey,
  policyValue,
  endpointFlags,
  endpointValue,
  policyGeneration,
  PolicyEpFlag,
  POLICY_KEY_SIZE,
  POLICY_VALUE_SIZE,
  POLICY_STATIC_PREFIX_BITS,
} from './map-entries.js';
