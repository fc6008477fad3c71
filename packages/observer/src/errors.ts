// One table of the errors this package reports, with the gRPC status each maps to.
import { status } from '@grpc/grpc-js';

export const errorCodes = {
  INVALID_REQUEST: status.INVALID_ARGUMENT,
  INVALID_FILTER: status.INVALID_ARGUMENT,
  INVALID_FIELD_MASK: status.INVALID_ARGUMENT,
  NOT_SERVED: status.UNIMPLEMENTED,
} as const;

export type ErrorCode = keyof typeof errorCodes;

export class ObserverError extends Error {
  override name = 'ObserverError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
  get grpcStatus(): status {
    return errorCodes[this.code];
  }
}
