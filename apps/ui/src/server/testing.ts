// A stand-in relay for tests and the UI benchmark: a real Observer gRPC server (the same API the
// relay serves) over a ring of replayed, recorded flows. Labelled replay wherever it is used.
import { Observer, ObserverServer, type ServerTlsFiles } from '@wirescope/observer';
import { loadRecordedFlows, type Flow } from '@wirescope/flow';
import { clone } from '@bufbuild/protobuf';
import { FlowSchema } from '@wirescope/flow';

export interface ReplayRelay {
  address: string;
  observer: Observer;
  /** Pushes copies of the recorded flows, stamped now (n flows, cycling through the recording). */
  replay(n: number): void;
  stop(): Promise<void>;
}

export async function startReplayRelay(
  opts: { tls?: ServerTlsFiles; preload?: number } = {},
): Promise<ReplayRelay> {
  const observer = new Observer({ nodeName: 'replay-node', capacity: 65535 });
  const server = new ObserverServer({ observer, listen: ['127.0.0.1:0'], tls: opts.tls });
  const [address] = await server.start();
  const recorded: Flow[] = loadRecordedFlows();
  let at = 0;
  const replay = (n: number) => {
    for (let i = 0; i < n; i++) {
      const flow = clone(FlowSchema, recorded[at++ % recorded.length]!);
      const now = Date.now();
      flow.time = {
        $typeName: 'google.protobuf.Timestamp',
        seconds: BigInt(Math.floor(now / 1000)),
        nanos: (now % 1000) * 1e6,
      };
      observer.push(flow);
    }
  };
  replay(opts.preload ?? 0);
  return {
    address: address!,
    observer,
    replay,
    stop: () => server.stop(),
  };
}
