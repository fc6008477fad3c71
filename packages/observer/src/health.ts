// The standard gRPC health service (grpc.health.v1) for the agent's Observer server and the relay.
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, service as healthService } from 'grpc-health-check';

/**
 * Names the health service answers for, all with the Observer's state. The stock `hubble status`
 * checks "hubble.server.Observer" (cilium pkg/hubble/api/v1 ObserverServiceName) and gives up
 * before ServerStatus unless it is SERVING; generic clients ask by the proto's own name,
 * "observer.Observer"; "" is the server as a whole, and the Observer is what these servers are for.
 */
export const observerHealthServices = ['', 'hubble.server.Observer', 'observer.Observer'] as const;

export class ObserverHealth {
  private readonly impl = new HealthImplementation();
  private current = false;

  constructor(serving = false) {
    this.setServing(serving);
  }

  get serving(): boolean {
    return this.current;
  }

  /** Also pushes the new state to open Health/Watch streams. */
  setServing(serving: boolean): void {
    this.current = serving;
    for (const name of observerHealthServices) this.impl.setStatus(name, serving ? 'SERVING' : 'NOT_SERVING');
  }

  addTo(server: grpc.Server): void {
    this.impl.addToServer(server);
  }
}

const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');

/**
 * Health/Check of the Observer as `hubble status` asks it, over `client`'s channel (its TLS and
 * options); resolves to the status name ("SERVING", "NOT_SERVING", ...), rejects with the gRPC error.
 */
export function checkObserverHealth(client: grpc.Client, deadlineMs = 5000): Promise<string> {
  const health = new HealthClient('unused', grpc.credentials.createInsecure(), {
    channelOverride: client.getChannel(),
  });
  const check = health['Check'] as (
    req: { service: string },
    options: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: { status: string }) => void,
  ) => void;
  return new Promise((resolve, reject) =>
    check.call(
      health,
      { service: observerHealthServices[1] },
      { deadline: Date.now() + deadlineMs },
      (err, res) => (err ? reject(err) : resolve(res?.status ?? 'UNKNOWN')),
    ),
  );
}
