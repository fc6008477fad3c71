// The UI server's one error type: a code from the table below, the HTTP status it answers with.
export const uiErrorCodes = {
  /** A filter entry or flag the observe grammar refuses (the message names it). */
  INVALID_FILTER: 400,
  /** A query parameter out of range (time range, limit, format). */
  INVALID_ARGUMENT: 400,
  /** What was asked for is not there (a flow the relay's nodes no longer hold). */
  NOT_FOUND: 404,
  /** The relay could not be reached or failed the call. */
  RELAY_UNAVAILABLE: 502,
  /** The metrics source (Prometheus) could not be reached or refused the query. */
  METRICS_UNAVAILABLE: 503,
  /** A flag or file given to the server at start-up. */
  CONFIG: 500,
} as const;

export type UiErrorCode = keyof typeof uiErrorCodes;

export class UiError extends Error {
  override name = 'UiError';
  constructor(
    readonly code: UiErrorCode,
    message: string,
  ) {
    super(message);
  }

  get status(): number {
    return uiErrorCodes[this.code];
  }
}
