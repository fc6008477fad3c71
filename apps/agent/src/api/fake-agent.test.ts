// A test double of the agent for the local API's unit tests. Named *.test.ts so that the build
// leaves it out of dist (a double never ships); it holds no tests itself.
import { create } from '@bufbuild/protobuf';
import { FlowSchema, HandshakeEventSchema, HandshakeMessageType, Verdict, type Flow } from '@wirescope/flow';
import { AgentError, AgentErrorCode } from '../errors.js';
import type { ObservedItem, ObserverCounters } from '../flows/observer.js';
import type { AgentApiSource } from './app.js';
import type {
  AttachResponse,
  DatapathStatusResponse,
  FlowCountersResponse,
  StrictResponse,
} from './datapath.js';
import type { EncryptStatusResponse, RotateKeyResponse } from './encrypt.js';
import type { EndpointsResponse } from './endpoints.js';
import type { FlowFeed } from './flows.js';
import type { HealthResponse } from './health.js';
import type { AuditRequest, AuditResponse, PolicyStatusResponse } from './policy.js';

/** The flow observer's surface: rings kept as arrays, subscribers observable by the test. */
export class FakeFeed implements FlowFeed {
  readonly ring: Flow[] = [];
  readonly handshakeRing: ReturnType<typeof create<typeof HandshakeEventSchema>>[] = [];
  readonly subscribers = new Set<(item: ObservedItem) => void>();
  lastHandshakesAsked: number | undefined;

  readonly flows = {
    last: (n: number): Flow[] => (n === 0 ? [] : this.ring.slice(-n)),
    lastLazy: (n: number) => this.flows.last(n).map((flow) => ({ flow })),
  };

  addFlows(count: number): Flow[] {
    const added = Array.from({ length: count }, (_, i) => flow(this.ring.length + i));
    this.ring.push(...added);
    return added;
  }

  addHandshakes(count: number): void {
    for (let i = 0; i < count; i++)
      this.handshakeRing.push(
        create(HandshakeEventSchema, {
          nodeName: 'node1',
          peerNode: 'node2',
          messageType: HandshakeMessageType.HANDSHAKE_INITIATION,
          senderIndex: i,
        }),
      );
  }

  /** What a datapath wake-up does: every subscriber gets the item. */
  emit(item: ObservedItem): void {
    for (const fn of this.subscribers) fn(item);
  }

  lastHandshakes(n: number) {
    this.lastHandshakesAsked = n;
    return this.handshakeRing.slice(-n);
  }

  subscribe(fn: (item: ObservedItem) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  counters(): ObserverCounters {
    return {
      flowsSeen: this.ring.length,
      flowsInRing: this.ring.length,
      capacity: 4095,
      handshakesSeen: this.handshakeRing.length,
      lost: 1,
      decoded: this.ring.length,
      undecodable: 1,
      kernelLost: 0,
      benignKernelDrops: 2,
    };
  }
}

/** A flow numbered by its source port, so that a test can tell them apart. */
export function flow(sourcePort: number): Flow {
  return create(FlowSchema, {
    nodeName: 'node1',
    verdict: Verdict.FORWARDED,
    IP: { source: '10.244.1.10', destination: '10.244.2.10' },
    l4: { protocol: { case: 'TCP', value: { sourcePort, destinationPort: 8080 } } },
  });
}

/** Answers as the agent does (every optional field present somewhere), and fails on demand. */
export class FakeAgent implements AgentApiSource {
  readonly feed = new FakeFeed();
  datapathOff = false;
  statsError: string | undefined;
  strict = false;
  attached = true;
  /** Thrown by health, encryptStatus and rotateKey while set. */
  failWith: Error | undefined;

  private fail(): void {
    if (this.failWith) throw this.failWith;
  }

  async health(): Promise<HealthResponse> {
    this.fail();
    return {
      status: 'degraded',
      node: 'node1',
      startedAt: '2025-01-01T00:00:00.000Z',
      pid: 4242,
      store: {
        connected: false,
        lastSync: '2025-01-01T00:00:05.000Z',
        lastError: 'etcd: connection refused',
        nodes: 3,
        endpoints: ['http://10.77.0.2:2379'],
      },
      staleNodes: [{ name: 'node3', since: '2025-01-01T00:00:04.000Z' }],
      wireguard: {
        ok: true,
        device: {
          state: 'up',
          since: '2025-01-01T00:00:03.000Z',
          lastOutage: {
            reason: 'wireguard-go exited',
            from: '2025-01-01T00:00:01.000Z',
            to: '2025-01-01T00:00:03.000Z',
            seconds: 1.75,
          },
        },
      },
    };
  }

  async encryptStatus(): Promise<EncryptStatusResponse> {
    this.fail();
    return {
      node: 'node1',
      underlayIP: '10.77.0.11',
      podCIDR: '10.244.1.0/24',
      mechanism: 'wireguard-go',
      interface: 'wsl-wg-node1',
      publicKey: 'pub1=',
      listenPort: 51871,
      mtu: 1420,
      observedAt: '2025-01-01T00:00:06.000Z',
      peers: [
        {
          node: 'node2',
          publicKey: 'pub2=',
          endpoint: '10.77.0.12:51871',
          allowedIPs: ['10.244.2.0/24'],
          latestHandshake: '2025-01-01T00:00:02.000Z',
          handshakeAgeSeconds: 4,
          rxBytes: 1000,
          txBytes: 2000,
          persistentKeepalive: 25,
        },
        {
          node: 'node3',
          publicKey: 'pub3=',
          endpoint: '10.77.0.13:51871',
          allowedIPs: ['10.244.3.0/24'],
          latestHandshake: undefined,
          handshakeAgeSeconds: undefined,
          rxBytes: 0,
          txBytes: 0,
          persistentKeepalive: 25,
          staleSince: '2025-01-01T00:00:04.000Z',
        },
        {
          node: undefined,
          publicKey: 'unknown=',
          endpoint: undefined,
          allowedIPs: [],
          latestHandshake: undefined,
          handshakeAgeSeconds: undefined,
          rxBytes: 0,
          txBytes: 0,
          persistentKeepalive: 0,
        },
      ],
    };
  }

  async rotateKey(): Promise<RotateKeyResponse> {
    this.fail();
    return { node: 'node1', previousPublicKey: 'pub1=', publicKey: 'pub1b=', published: false };
  }

  async endpoints(): Promise<EndpointsResponse> {
    return {
      node: 'node1',
      endpoints: [
        {
          namespace: 'shop',
          pod: 'loadgen',
          node: 'node1',
          ip: '10.244.1.10',
          interface: 'lxc0a1b2c3d',
          labels: { app: 'loadgen', tier: 'client' },
          netns: '/run/netns/wsl-node1-shop-loadgen',
          identity: 256,
        },
        {
          namespace: 'shop',
          pod: 'frontend',
          node: 'node1',
          ip: '10.244.1.11',
          interface: 'lxc0a1b2c3e',
          labels: {},
          identity: undefined,
        },
      ],
    };
  }

  observer(): FlowFeed | undefined {
    return this.datapathOff ? undefined : this.feed;
  }

  datapathStatus(): DatapathStatusResponse {
    if (this.datapathOff) return { node: 'node1', loaded: false, mode: 'bpf', error: 'no BTF' };
    return {
      mode: 'bpf',
      node: 'node1',
      loaded: true,
      strict: this.strict,
      wgIfindex: 7,
      attachments: [
        { interface: 'lxc0a1b2c3d', program: 'from_endpoint', direction: 'ingress', attached: true },
        {
          interface: 'lxc0a1b2c3e',
          program: 'to_endpoint',
          direction: 'egress',
          attached: false,
          error: 'ENODEV',
        },
        { interface: 'kfree_skb', program: 'kfree_skb', direction: 'tracing', attached: true },
      ],
      netns: {
        node: 4026532000,
        nodePath: '/run/netns/wsl-node1',
        endpoints: [
          { interface: 'lxc0a1b2c3d', path: '/run/netns/wsl-node1-shop-loadgen', inode: 4026532001 },
          { interface: 'lxc0a1b2c3e', error: 'no netns in the store' },
        ],
        inodes: [4026532000, 4026532001],
      },
      stats:
        this.statsError !== undefined
          ? { error: this.statsError }
          : {
              leakPackets: 0,
              redirects: 10,
              strictDrops: 1,
              flowsCreated: 4,
              traces: 9,
              arpReplies: 2,
              transportPackets: 12,
              lostEvents: 0,
            },
      peerTraffic: [{ peerIP: '10.77.0.12', direction: 'egress', packets: 3, bytes: 444 }],
      observer: this.feed.counters(),
    };
  }

  flowCounters(): FlowCountersResponse {
    return {
      node: 'node1',
      flows: [
        {
          saddr: '10.244.1.10',
          daddr: '10.244.2.10',
          sport: 40000,
          dport: 8080,
          protocol: 6,
          point: 1,
          packets: 5,
          bytes: 600,
          firstNs: '18446744073709551000',
          lastNs: '18446744073709551615',
          tcpFlagsSeen: 0x12,
        },
      ],
    };
  }

  private requireDatapath(): void {
    if (this.datapathOff)
      throw new AgentError(
        AgentErrorCode.NOT_FOUND,
        'the eBPF datapath is off on this agent (--datapath off)',
      );
  }

  setStrictEncryption(enabled: boolean): StrictResponse {
    this.requireDatapath();
    this.strict = enabled;
    return { node: 'node1', strict: enabled };
  }

  async setDatapathAttached(attached: boolean): Promise<AttachResponse> {
    this.requireDatapath();
    this.attached = attached;
    return { node: 'node1', attached };
  }

  auditEndpoints: string[] = [];

  policyStatus(): PolicyStatusResponse {
    this.requireDatapath();
    return {
      node: 'node1',
      revision: 9,
      policies: [{ kind: 'CiliumNetworkPolicy', namespace: 'shop', name: 'api-from-shop', revision: 9 }],
      rejected: [],
      auditMode: false,
      auditEndpoints: this.auditEndpoints,
      endpoints: [
        {
          endpoint: 'shop/api',
          interface: 'lxc2',
          ingress: { active: true, enforced: true, enforcedBy: ['shop/api-from-shop'] },
          egress: { active: false, enforced: false, enforcedBy: [] },
          audit: this.auditEndpoints.includes('shop/api'),
          requireEncryption: [],
          entries: 3,
        },
      ],
    };
  }

  async setPolicyAudit(request: AuditRequest): Promise<AuditResponse> {
    this.requireDatapath();
    if (request.endpoint && request.enabled) this.auditEndpoints.push(request.endpoint);
    return {
      node: 'node1',
      auditMode: request.endpoint === undefined && request.enabled,
      auditEndpoints: this.auditEndpoints,
    };
  }
}
