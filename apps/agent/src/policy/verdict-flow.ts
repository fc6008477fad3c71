/**
 * A policy-verdict record -> a Hubble flow, as Cilium's threefour parser and policy correlation
 * make it: event type 5, verdict FORWARDED / DROPPED / AUDIT, policy_match_type, the direction,
 * and the policies that allowed or denied it in *_allowed_by / *_denied_by. On a default deny
 * (133) no rule matched: the policies whose selection turned default deny on are named instead;
 * plaintext to an endpoint that demands encryption (195) names the policies that demand it.
 */
import { create } from '@bufbuild/protobuf';
import { PolicySchema, Verdict, type DropReason, type Flow, type Policy } from '@wirescope/flow';
import type { PolicyVerdictEvent } from '@wirescope/events';
import type { PolicyRef } from '@wirescope/policy';
import { baseFlow, type EnrichContext } from '../flows/enrich.js';

const MONITOR_POLICY_VERDICT = 5;
const POLICY_DENIED = 133;
const UNENCRYPTED_TRAFFIC = 195;

/** Hubble's flow.Policy with the labels Cilium derives for a policy (GetPolicyFromLabels' inverse). */
export function hubblePolicy(ref: PolicyRef): Policy {
  const labels = [
    `k8s:io.cilium.k8s.policy.derived-from=${ref.kind}`,
    `k8s:io.cilium.k8s.policy.name=${ref.name}`,
  ];
  if (ref.namespace) labels.push(`k8s:io.cilium.k8s.policy.namespace=${ref.namespace}`);
  return create(PolicySchema, {
    name: ref.name,
    namespace: ref.namespace,
    labels,
    revision: BigInt(ref.revision),
    kind: ref.kind,
  });
}

export function policyVerdictToFlow(ctx: EnrichContext, e: PolicyVerdictEvent): Flow {
  const flow = baseFlow(ctx, e.header.ktimeNs, e.packet);
  const ingress = e.packet.direction === 'ingress';
  flow.eventType = { $typeName: 'flow.CiliumEventType', type: MONITOR_POLICY_VERDICT, subType: 0 };
  flow.policyMatchType = e.matchType;
  const denied = e.dropReason !== 0;
  if (e.audited) flow.verdict = Verdict.AUDIT;
  else if (denied) {
    flow.verdict = Verdict.DROPPED;
    flow.dropReason = e.dropReason;
    flow.dropReasonDesc = e.dropReason as DropReason;
  } else flow.verdict = Verdict.FORWARDED;
  // forwarded verdicts are the first packet of a connection; denies carry no direction claim
  if (denied && !e.audited) delete flow.isReply;
  else flow.isReply = false;
  const direction = ingress ? 'ingress' : 'egress';
  let refs = ctx.policyAttribution?.(e.cookie) ?? [];
  if (denied && refs.length === 0 && e.dropReason === POLICY_DENIED)
    refs = ctx.policyEnforcedBy?.(e.packet.ifindex, direction) ?? [];
  if (e.dropReason === UNENCRYPTED_TRAFFIC) refs = ctx.policyEncryptionBy?.(e.packet.ifindex) ?? [];
  const policies = refs.map(hubblePolicy);
  if (!denied) {
    if (ingress) flow.ingressAllowedBy = policies;
    else flow.egressAllowedBy = policies;
  } else if (ingress) flow.ingressDeniedBy = policies;
  else flow.egressDeniedBy = policies;
  return flow;
}
