import { EtcdClusterStore } from '@wirescope/agent';
import { listenLoopback } from './forward.js';
import { etcdForwardSocket } from './names.js';

/** Connects to the lab's etcd through a loopback forward (never to a lab address). */
export async function withLabStore<T>(fn: (store: EtcdClusterStore) => Promise<T>): Promise<T> {
  const forward = await listenLoopback(0, etcdForwardSocket);
  const store = new EtcdClusterStore({
    endpoints: [`http://127.0.0.1:${forward.port}`],
    callTimeoutMs: 2000,
  });
  try {
    return await fn(store);
  } finally {
    await store.close();
    forward.close();
  }
}
