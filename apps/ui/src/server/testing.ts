// A stand-in relay for tests and the UI benchmark: a real Observer gRPC server (the same API the
// relay serves) over a ring of replayed, recorded flows. Labelled replay wherever it is used.
import { Observer, ObserverServer, type ServerTlsFiles } from '@wirescope/observer';
import { encodeFlowWithoutTime, loadRecordedFlows } from '@wirescope/flow';

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
  // encoded once, stamped as pushed: the stand-in costs little next to what it measures
  const recorded = loadRecordedFlows().map(encodeFlowWithoutTime);
  let at = 0;
  const replay = (n: number) => {
    const micros = Date.now() * 1000;
    for (let i = 0; i < n; i++) observer.pushReplayed(recorded[at++ % recorded.length]!, micros);
  };
  replay(opts.preload ?? 0);
  return {
    address: address!,
    observer,
    replay,
    stop: () => server.stop(),
  };
}
