// The flows a preview evaluates: the last N of the cluster's rings through the relay, and with
// follow, new ones as they arrive.
import { create } from '@bufbuild/protobuf';
import { GetFlowsRequestSchema, type Flow, type GetFlowsResponse } from '@wirescope/flow';
import { methods, serverStream } from '@wirescope/observer';
import { connect, ready, type ConnectOptions } from '../observe/connect.js';

export async function relayFlows(
  opts: ConnectOptions,
  last: number,
  follow: { onFlow: (flow: Flow) => void; stop: Promise<void> } | undefined,
): Promise<Flow[]> {
  const client = connect(opts);
  try {
    await ready(client, opts);
    const request = create(GetFlowsRequestSchema, { number: BigInt(last), follow: follow !== undefined });
    const call = serverStream(client, methods.observer.getFlows, request);
    const flows: Flow[] = [];
    void follow?.stop.then(() => call.cancel());
    await new Promise<void>((resolve, reject) => {
      call.on('data', (r: GetFlowsResponse) => {
        if (r.responseTypes.case !== 'flow') return;
        flows.push(r.responseTypes.value);
        follow?.onFlow(r.responseTypes.value);
      });
      call.on('end', () => resolve());
      call.on('error', (err: Error & { code?: number }) => (err.code === 1 ? resolve() : reject(err)));
    });
    return flows;
  } finally {
    client.close();
  }
}
