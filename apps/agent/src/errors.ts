/** The agent's one error-code table: every failure the agent reports carries one of these. */
export const AgentErrorCode = {
  INVALID_FLAG: 'INVALID_FLAG',
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
  IDENTITY_EXHAUSTED: 'IDENTITY_EXHAUSTED',
  WIREGUARD_FAILED: 'WIREGUARD_FAILED',
  COMMAND_FAILED: 'COMMAND_FAILED',
  NOT_FOUND: 'NOT_FOUND',
  BAD_REQUEST: 'BAD_REQUEST',
} as const;
export type AgentErrorCode = (typeof AgentErrorCode)[keyof typeof AgentErrorCode];

export class AgentError extends Error {
  override name = 'AgentError';
  constructor(
    readonly code: AgentErrorCode,
    message: string,
  ) {
    super(message);
  }
}
