import { agentSocket } from './names.js';
import { readState } from './state.js';

/** A lab node's agent: where its local API listens. */
export interface LabAgent {
  node: string;
  socket: string;
}

/** The running lab's agents, in the spec's node order; undefined when no lab runs. */
export function labAgents(): LabAgent[] | undefined {
  return readState()?.spec.nodes.map((n) => ({ node: n.name, socket: agentSocket(n.name) }));
}
