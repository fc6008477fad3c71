import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { AgentConfig } from './config.js';
import type { ClusterStore, EndpointRecord, NodeRecord, PolicyRecord } from './store/types.js';
import { WireguardManager, type EncryptStatus } from './wireguard/manager.js';
import { buildApp } from './api/app.js';
import type { HealthResponse } from './api/health.js';
import type { AuditRequest, AuditResponse, PolicyStatusResponse } from './api/policy.js';
import type { EncryptStatusResponse, RotateKeyResponse } from './api/encrypt.js';
import type { EndpointsResponse } from './api/endpoints.js';
import type {
  AttachResponse,
  DatapathStatusResponse,
  FlowCountersResponse,
  StrictResponse,
} from './api/datapath.js';
import { ensureBpfFs } from '@wirescope/libbpf';
import { NodeState } from '@wirescope/flow';
import { DatapathController } from './datapath/controller.js';
import { HubbleMount } from './hubble/mount.js';
import type { FlowObserver } from './flows/observer.js';
import { canonicalLabels } from './store/identity.js';
import { NodeMembership, type StaleNode } from './store/membership.js';
import { AgentError, AgentErrorCode } from './errors.js';
import { AgentMetrics } from './metrics/agent-metrics.js';
import type { FlowMetricsResponse } from './api/metrics.js';

export interface StoreState {
  connected: boolean;
  lastSync: string | undefined;
  lastError: string | undefined;
  nodes: number;
}

const DEVICE_WATCH_MS = 1000;

export interface DeviceOutage {
  reason: string;
  from: string;
  to: string;
  seconds: number;
}

export interface DeviceState {
  state: 'up' | 'down';
  /** ISO time of the last change */
  since: string;
  reason?: string | undefined;
  lastOutage?: DeviceOutage | undefined;
}

export interface LocalEndpoint extends EndpointRecord {
  identity: number | undefined;
}

/**
 * The node daemon's control plane: publishes this node, keeps one WireGuard peer per remote node,
 * and serves the local API. The datapath (device, peers, routes) outlives store outages and agent
 * restarts; only a successful resync changes it.
 */
export class Agent {
  private readonly wireguard: WireguardManager;
  private api: FastifyInstance | undefined;
  private timer: NodeJS.Timeout | undefined;
  private deviceWatch: NodeJS.Timeout | undefined;
  private keptNodes: NodeRecord[] = [];
  /** The encryption device's state, with the time it last changed: status says when, not just what. */
  private device: DeviceState = { state: 'up', since: new Date().toISOString() };
  private unwatch: (() => void)[] = [];
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  private debounce: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly startedAt = new Date();
  private localEndpoints: LocalEndpoint[] = [];
  private readonly storeState: StoreState = {
    connected: false,
    lastSync: undefined,
    lastError: undefined,
    nodes: 0,
  };
  private readonly nodesCachePath: string;
  private datapath: DatapathController | undefined;
  private datapathError: string | undefined;
  private hubble: HubbleMount | undefined;
  private readonly identityCache = new Map<string, number>();
  private readonly membership: NodeMembership;
  private staleNodes: StaleNode[] = [];
  private readonly metrics: AgentMetrics;

  constructor(
    private readonly config: AgentConfig,
    private readonly store: ClusterStore,
    private readonly log: (message: string) => void,
  ) {
    mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
    this.nodesCachePath = join(config.stateDir, 'nodes.json');
    this.wireguard = new WireguardManager({ ...config.wireguard, stateDir: config.stateDir, log });
    this.membership = new NodeMembership(config.nodeName, config.nodeGracePeriodSeconds * 1000);
    this.metrics = new AgentMetrics(
      config.metrics,
      {
        nodeName: config.nodeName,
        nodes: () => this.keptNodes,
        encryptStatus: async () => this.markStale(await this.wireguard.status()),
        datapath: () => this.datapath,
        observerQueueLost: () => this.datapath?.observer.observer.lostEvents ?? 0,
      },
      log,
    );
  }

  private record(): NodeRecord {
    return {
      name: this.config.nodeName,
      underlayIP: this.config.underlayIP,
      podCIDR: this.config.podCIDR,
      wireguardPublicKey: this.wireguard.publicKey,
      wireguardPort: this.config.wireguard.listenPort,
    };
  }

  async start(): Promise<void> {
    const device = await this.wireguard.start();
    if (device.adopted) {
      // Until the store answers, keep the peers from the last successful sync (no-op if unchanged).
      const cached = this.readNodesCache();
      if (cached.length > 0) await this.wireguard.syncPeers(this.config.nodeName, cached);
    }
    if (this.config.datapath.mode === 'bpf') await this.startDatapath();
    await this.startApi();
    await this.metrics.start(this.datapath?.observer);
    this.unwatch.push(this.store.watchNodes(() => this.scheduleSync()));
    this.unwatch.push(this.store.watchEndpoints(() => this.scheduleSync()));
    this.unwatch.push(this.store.watchPolicies(() => this.scheduleSync()));
    await this.store.registerNode(this.record()).catch((err: unknown) => {
      this.noteStoreError(err);
    });
    await this.sync();
    this.timer = setInterval(() => this.scheduleSync(), this.config.resyncIntervalSeconds * 1000);
    // a dead wireguard-go cuts the node off: notice within a second, not at the next resync
    this.deviceWatch = setInterval(() => {
      if (this.wireguard.problem() !== undefined) void this.sync();
      // a filter deleted or replaced behind the agent's back: put back within a second
      else this.datapath?.datapath.verifyAttachments();
    }, DEVICE_WATCH_MS);
  }

  private async startApi(): Promise<void> {
    const socket = this.config.apiSocket;
    mkdirSync(dirname(socket), { recursive: true });
    rmSync(socket, { force: true });
    this.api = buildApp(this);
    await this.api.listen({ path: socket });
    chmodSync(socket, 0o600);
    this.log(`api: listening on ${socket}`);
  }

  private scheduleSync(): void {
    if (this.stopped) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.sync(), 50);
  }

  /** One full reconcile from the store; serialized, and repeated once if asked for meanwhile. */
  sync(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = this.syncOnce().finally(() => {
      this.syncing = undefined;
      if (this.syncAgain && !this.stopped) {
        this.syncAgain = false;
        void this.sync();
      }
    });
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    await this.superviseDevice();
    let members: NodeRecord[];
    let alive: Set<string>;
    let endpoints: EndpointRecord[];
    let policies: PolicyRecord[];
    try {
      if (await this.store.ensureRegistered()) this.log('store: node re-registered');
      [members, alive, endpoints, policies] = await Promise.all([
        this.store.listNodes(),
        this.store.liveNodeNames(),
        this.store.listEndpoints(),
        this.store.listPolicies(),
      ]);
    } catch (err) {
      this.noteStoreError(err);
      await this.publishEncryptStatus();
      return;
    }
    const nodes = this.followMembership(members, alive);
    this.keptNodes = nodes;
    if (!this.storeState.connected) this.log(`store: connected (${nodes.length} nodes)`);
    this.storeState.connected = true;
    this.storeState.lastError = undefined;
    this.storeState.lastSync = new Date().toISOString();
    this.storeState.nodes = members.length;
    this.writeNodesCache(nodes);
    if (this.device.state === 'down') {
      await this.publishEncryptStatus();
      return; // nothing to program on a device that is not there; the next tick recreates it
    }
    try {
      const changes = await this.wireguard.syncPeers(this.config.nodeName, nodes);
      for (const [what, list] of Object.entries(changes) as [string, string[]][]) {
        if (list.length > 0) this.log(`wireguard: peers ${what}: ${list.join(', ')}`);
      }
    } catch (err) {
      this.log(`wireguard: peer sync failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.datapath?.policy.setRecords(policies);
    await this.syncEndpoints(endpoints);
    this.metrics.endpoints(endpoints);
    await this.syncDatapath(nodes, endpoints);
  }

  /**
   * Recreates a vanished WireGuard device (wireguard-go killed, link deleted) with the same key and
   * the last known peers, then reloads the eBPF programs (the device's ifindex is compiled into
   * them). The outage is visible in health, encrypt status and the log while it lasts, and after.
   */
  private async superviseDevice(): Promise<void> {
    const problem = this.wireguard.problem();
    if (problem === undefined) return;
    const startedMs = Date.now();
    if (this.device.state === 'up') {
      this.device = {
        state: 'down',
        since: new Date(startedMs).toISOString(),
        reason: problem,
        lastOutage: this.device.lastOutage,
      };
      this.log(`wireguard: ${problem}; recreating it with the same key and peers`);
      this.datapath?.observer.observer.notifyNodeStatus(
        NodeState.NODE_ERROR,
        `encryption device down: ${problem}`,
      );
      await this.publishEncryptStatus();
    }
    try {
      const nodes = this.keptNodes.length > 0 ? this.keptNodes : this.readNodesCache();
      await this.wireguard.recreate(this.config.nodeName, nodes);
      await this.datapath?.reload();
    } catch (err) {
      this.log(
        `wireguard: recreating the device failed (${err instanceof Error ? err.message : String(err)}); retrying`,
      );
      return;
    }
    const outage = {
      reason: this.device.reason ?? problem,
      from: this.device.since,
      to: new Date().toISOString(),
      seconds: (Date.now() - Date.parse(this.device.since)) / 1000,
    };
    this.device = { state: 'up', since: outage.to, lastOutage: outage };
    this.log(`wireguard: device back after ${outage.seconds.toFixed(1)}s (${outage.reason})`);
    this.datapath?.observer.observer.notifyNodeStatus(
      NodeState.NODE_CONNECTED,
      `encryption device back after ${outage.seconds.toFixed(1)}s (${outage.reason})`,
    );
    await this.publishEncryptStatus();
  }

  /** Refreshes the snapshot the relay's EncryptionStatus serves (also while the store is away). */
  private async publishEncryptStatus(): Promise<void> {
    if (!this.hubble) return;
    try {
      this.hubble.setEncryptStatus(this.markStale(await this.wireguard.status()), this.deviceError());
    } catch (err) {
      this.hubble.setEncryptStatus(
        undefined,
        this.deviceError() ?? (err instanceof Error ? err.message : String(err)),
      );
    }
  }

  private deviceError(): string | undefined {
    return this.device.state === 'down'
      ? `device down since ${this.device.since}: ${this.device.reason}`
      : undefined;
  }

  /** The nodes that keep their peer: members whose agent is alive or gone for less than the grace period. */
  private followMembership(members: NodeRecord[], alive: Set<string>): NodeRecord[] {
    const view = this.membership.update(members, alive, Date.now());
    const grace = this.config.nodeGracePeriodSeconds;
    for (const name of view.lapsed)
      this.log(
        `store: node ${name}'s agent lease lapsed; keeping its peer and datapath entries (stale) for up to ${grace}s`,
      );
    for (const name of view.recovered) this.log(`store: node ${name}'s agent is back`);
    for (const name of view.expired)
      this.log(`store: node ${name} stale for ${grace}s (grace period): removing its peer`);
    this.staleNodes = view.stale;
    return view.kept;
  }

  /** Loads the eBPF datapath; on failure the agent keeps running with route-based steering. */
  private async startDatapath(): Promise<void> {
    this.mountBpfFs();
    const controller = new DatapathController(this.config, this.log);
    try {
      await controller.start();
      this.datapath = controller;
      const listen = this.config.datapath.hubbleListen;
      if (listen.length > 0) {
        const hubble = new HubbleMount(
          {
            nodeName: this.config.nodeName,
            listen,
            tls: this.config.datapath.hubbleTls,
          },
          controller.observer.observer,
        );
        this.log(`hubble: Observer API on ${(await hubble.start()).join(', ')}`);
        this.hubble = hubble;
      }
    } catch (err) {
      controller.stop();
      this.datapathError = err instanceof Error ? err.message : String(err);
      this.log(this.datapathError);
    }
  }

  /** As cilium-agent does: a new machine has no bpffs, and pinned TCX links need it. */
  private mountBpfFs(): void {
    try {
      const bpffs = ensureBpfFs(this.config.datapath.bpfRoot);
      this.log(`datapath: bpffs ${bpffs.mountedNow ? 'mounted' : 'already mounted'} at ${bpffs.path}`);
    } catch (err) {
      // pins only keep a killed agent's links running: say so and carry on
      this.log(`datapath: ${err instanceof Error ? err.message : String(err)}; continuing without pins`);
    }
  }

  private async syncDatapath(nodes: NodeRecord[], endpoints: EndpointRecord[]): Promise<void> {
    if (!this.datapath) return;
    try {
      const withIdentity = [];
      for (const endpoint of endpoints) {
        const key = canonicalLabels(endpoint.labels);
        let identity = this.identityCache.get(key);
        if (identity === undefined) {
          identity = await this.store.allocateIdentity(endpoint.labels);
          this.identityCache.set(key, identity);
        }
        withIdentity.push({ ...endpoint, identity });
      }
      const status = this.markStale(await this.wireguard.status());
      const peerNodes = status.peers.map((p) => p.node).filter((n): n is string => n !== undefined);
      await this.datapath.sync({ nodes, endpoints: withIdentity, peerNodes });
      this.hubble?.setNodes(nodes);
      this.hubble?.setEncryptStatus(status, this.deviceError());
    } catch (err) {
      this.log(`datapath: sync failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  observer(): FlowObserver | undefined {
    return this.datapath?.observer;
  }

  datapathStatus(): DatapathStatusResponse {
    if (!this.datapath)
      return {
        node: this.config.nodeName,
        loaded: false,
        mode: this.config.datapath.mode,
        error: this.datapathError,
      };
    // the controller's status is the schema's shape (node, loaded, attachments, stats, …)
    return {
      mode: this.config.datapath.mode,
      ...(this.datapath.status() as Omit<DatapathStatusResponse, 'mode'>),
    };
  }

  setStrictEncryption(enabled: boolean): StrictResponse {
    if (!this.datapath)
      throw new AgentError(
        AgentErrorCode.NOT_FOUND,
        'the eBPF datapath is off on this agent (--datapath off)',
      );
    this.datapath.datapath.setStrict(enabled);
    this.log(`datapath: strict encryption ${enabled ? 'on' : 'off'}`);
    return { node: this.config.nodeName, strict: enabled };
  }

  async setDatapathAttached(attached: boolean): Promise<AttachResponse> {
    if (!this.datapath)
      throw new AgentError(
        AgentErrorCode.NOT_FOUND,
        'the eBPF datapath is off on this agent (--datapath off)',
      );
    await this.datapath.setAttached(attached);
    this.log(`datapath: programs ${attached ? 'attached' : 'detached (route steering only)'}`);
    return { node: this.config.nodeName, attached };
  }

  private policyDatapath(): DatapathController {
    if (!this.datapath)
      throw new AgentError(
        AgentErrorCode.NOT_FOUND,
        'the eBPF datapath is off on this agent (--datapath off): no network policy',
      );
    return this.datapath;
  }

  policyStatus(): PolicyStatusResponse {
    return { node: this.config.nodeName, ...this.policyDatapath().policy.status() };
  }

  /** Audit mode for the whole agent or one local endpoint (namespace/pod); in the maps once this returns. */
  async setPolicyAudit(request: AuditRequest): Promise<AuditResponse> {
    const engine = this.policyDatapath().policy;
    if (
      request.endpoint !== undefined &&
      !this.localEndpoints.some((e) => `${e.namespace}/${e.pod}` === request.endpoint)
    )
      throw new AgentError(
        AgentErrorCode.NOT_FOUND,
        `endpoint "${request.endpoint}" is not on this node; local: ${this.localEndpoints.map((e) => `${e.namespace}/${e.pod}`).join(', ') || 'none'}`,
      );
    engine.setAudit(request.enabled, request.endpoint);
    this.log(
      `policy: audit mode ${request.enabled ? 'on' : 'off'} for ${request.endpoint ?? 'every endpoint'}`,
    );
    await this.sync();
    const { auditMode, auditEndpoints } = engine.status();
    return { node: this.config.nodeName, auditMode, auditEndpoints };
  }

  flowMetrics(): FlowMetricsResponse {
    return { node: this.config.nodeName, enabled: this.metrics.flowMetrics };
  }

  setFlowMetrics(enabled: boolean): FlowMetricsResponse {
    this.metrics.setFlowMetrics(enabled);
    this.log(`metrics: flow metrics ${enabled ? 'on' : 'off'}`);
    return this.flowMetrics();
  }

  flowCounters(): FlowCountersResponse {
    return { node: this.config.nodeName, flows: this.datapath?.datapath.flowCounters() ?? [] };
  }

  private async syncEndpoints(endpoints: EndpointRecord[]): Promise<void> {
    const local = endpoints.filter((e) => e.node === this.config.nodeName);
    const result: LocalEndpoint[] = [];
    for (const endpoint of local) {
      let identity: number | undefined;
      try {
        identity = await this.store.allocateIdentity(endpoint.labels);
      } catch (err) {
        this.noteStoreError(err);
      }
      result.push({ ...endpoint, identity });
    }
    this.localEndpoints = result;
  }

  private noteStoreError(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (this.storeState.connected || this.storeState.lastError === undefined) {
      this.log(
        `store: unreachable (${message}); datapath unchanged, retrying every ${this.config.resyncIntervalSeconds}s`,
      );
    }
    this.storeState.connected = false;
    this.storeState.lastError = message;
  }

  private readNodesCache(): NodeRecord[] {
    try {
      return JSON.parse(readFileSync(this.nodesCachePath, 'utf8')) as NodeRecord[];
    } catch {
      return [];
    }
  }

  private writeNodesCache(nodes: NodeRecord[]): void {
    writeFileSync(this.nodesCachePath, JSON.stringify(nodes), { mode: 0o600 });
  }

  async health(): Promise<HealthResponse> {
    let wireguard: { ok: boolean; error?: string; device: DeviceState };
    try {
      await this.wireguard.status();
      wireguard = { ok: this.device.state === 'up', device: this.device };
      if (this.device.state === 'down') wireguard.error = this.deviceError();
    } catch (err) {
      wireguard = { ok: false, error: err instanceof Error ? err.message : String(err), device: this.device };
    }
    return {
      status: wireguard.ok && this.storeState.connected ? 'ok' : 'degraded',
      node: this.config.nodeName,
      startedAt: this.startedAt.toISOString(),
      pid: process.pid,
      store: { ...this.storeState, endpoints: this.config.etcdEndpoints },
      staleNodes: this.staleNodes.map((n) => ({ name: n.name, since: new Date(n.since).toISOString() })),
      wireguard,
    };
  }

  private markStale(status: EncryptStatus): EncryptStatus {
    const since = new Map(this.staleNodes.map((n) => [n.name, new Date(n.since).toISOString()]));
    if (since.size === 0) return status;
    return {
      ...status,
      peers: status.peers.map((p) =>
        p.node && since.has(p.node) ? { ...p, staleSince: since.get(p.node) } : p,
      ),
    };
  }

  async encryptStatus(): Promise<EncryptStatusResponse> {
    const status = this.markStale(await this.wireguard.status());
    return {
      node: this.config.nodeName,
      underlayIP: this.config.underlayIP,
      podCIDR: this.config.podCIDR,
      ...status,
    };
  }

  async rotateKey(): Promise<RotateKeyResponse> {
    const previous = this.wireguard.publicKey;
    const next = await this.wireguard.rotateKey();
    let published = true;
    try {
      await this.store.registerNode(this.record());
    } catch (err) {
      // The resync loop republishes as soon as the store answers again.
      published = false;
      this.noteStoreError(err);
    }
    return { node: this.config.nodeName, previousPublicKey: previous, publicKey: next.publicKey, published };
  }

  async endpoints(): Promise<EndpointsResponse> {
    return { node: this.config.nodeName, endpoints: this.localEndpoints };
  }

  /** Stops the control plane only: the WireGuard device keeps forwarding (as Cilium's datapath does). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.deviceWatch);
    clearTimeout(this.debounce);
    for (const unwatch of this.unwatch) unwatch();
    await this.hubble?.stop().catch(() => undefined);
    await this.metrics.stop();
    this.datapath?.stop();
    await this.api?.close();
    rmSync(this.config.apiSocket, { force: true });
    await this.store.close();
  }
}
