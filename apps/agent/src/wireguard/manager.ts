import { join } from 'node:path';
import { run } from '../exec.js';
import { RouteSteering } from '../datapath/routes.js';
import { MarkSteering, type MarkSteeringStatus } from '../datapath/mark-steering.js';
import type { NodeRecord } from '../store/types.js';
import { deviceProblem, ensureDevice, type WireguardDevice } from './device.js';
import { readUapi, uapiSocketPath } from './uapi.js';
import { parseWgDump, type WgPeerState } from './dump.js';
import { generateKeyPair, loadOrCreateKeyPair, writePrivateKey, type KeyPair } from './keys.js';
import type { WireguardMechanism } from '../config.js';

export interface WireguardOptions {
  interfaceName: string;
  listenPort: number;
  mtu: number;
  mechanism: WireguardMechanism;
  persistentKeepalive: number;
  stateDir: string;
  log: (message: string) => void;
}

export interface PeerStatus {
  node: string | undefined;
  publicKey: string;
  endpoint: string | undefined;
  allowedIPs: string[];
  /** ISO time of the latest completed handshake, undefined if none yet. */
  latestHandshake: string | undefined;
  handshakeAgeSeconds: number | undefined;
  rxBytes: number;
  txBytes: number;
  persistentKeepalive: number;
  /** Set while the peer node's agent is gone (its lease lapsed): the peer is kept, not trusted fresh. */
  staleSince?: string | undefined;
}

export interface EncryptStatus {
  mechanism: string;
  interface: string;
  publicKey: string;
  listenPort: number;
  mtu: number;
  peers: PeerStatus[];
  /** When this was read off the device: status is a snapshot, and says how old it is. */
  observedAt: string;
  /** the fwmark rule and table that steer from_endpoint's marked packets into the device */
  steering?: MarkSteeringStatus;
}

export interface PeerChanges {
  added: string[];
  updated: string[];
  removed: string[];
}

/** Owns this node's WireGuard device: key, peers (one per remote node) and the routes into it. */
export class WireguardManager {
  private device: WireguardDevice | undefined;
  private keys: KeyPair;
  private readonly keyPath: string;
  private readonly routes: RouteSteering;
  private readonly steering: MarkSteering;
  /** Public key -> node name, from the last node list, for status output. */
  private peerNames = new Map<string, string>();

  constructor(private readonly options: WireguardOptions) {
    this.keyPath = join(options.stateDir, 'wireguard.key');
    const { keys, created } = loadOrCreateKeyPair(this.keyPath);
    this.keys = keys;
    options.log(`wireguard: ${created ? 'generated' : 'loaded'} key ${keys.publicKey}`);
    this.routes = new RouteSteering(options.interfaceName);
    this.steering = new MarkSteering(options.interfaceName, options.log);
  }

  get publicKey(): string {
    return this.keys.publicKey;
  }

  get mechanism(): string | undefined {
    return this.device?.mechanism;
  }

  async start(): Promise<WireguardDevice> {
    const o = this.options;
    this.device = await ensureDevice(o.interfaceName, o.mechanism, o.stateDir, o.log);
    await run('wg', [
      'set',
      o.interfaceName,
      'private-key',
      this.keyPath,
      'listen-port',
      String(o.listenPort),
    ]);
    await run('ip', ['link', 'set', 'dev', o.interfaceName, 'mtu', String(o.mtu), 'up']);
    // a recreated device took table 201's route with it
    await this.steering.ensure();
    return this.device;
  }

  /** Why the device cannot carry traffic right now, undefined when it can (no process spawned). */
  problem(): string | undefined {
    return this.device ? deviceProblem(this.device) : 'WireGuard device not created yet';
  }

  /** Brings a vanished device back with the same key, port and peers (`nodes`: last known). */
  async recreate(selfName: string, nodes: NodeRecord[]): Promise<WireguardDevice> {
    const device = await this.start();
    await this.syncPeers(selfName, nodes);
    return device;
  }

  private async dump(): Promise<{ publicKey: string; listenPort: number; peers: WgPeerState[] }> {
    // wireguard-go answers on its UAPI socket: no `wg` process per reading (see uapi.ts)
    if (this.device?.mechanism === 'wireguard-go') {
      try {
        return await readUapi(uapiSocketPath(this.options.interfaceName));
      } catch {
        // the socket is elsewhere or the device is going away: `wg` says which
      }
    }
    const { stdout } = await run('wg', ['show', this.options.interfaceName, 'dump']);
    return parseWgDump(stdout);
  }

  /**
   * Makes the peer set exactly "every node but this one", with allowed-ips = its pod CIDR and the
   * routes to match. Idempotent: a restart or a repeated resync changes nothing that is right.
   */
  async syncPeers(selfName: string, nodes: NodeRecord[]): Promise<PeerChanges> {
    const name = this.options.interfaceName;
    const remote = nodes.filter((n) => n.name !== selfName);
    this.peerNames = new Map(remote.map((n) => [n.wireguardPublicKey, n.name]));
    const wanted = new Map(remote.map((n) => [n.wireguardPublicKey, n]));
    const current = await this.dump();
    const changes: PeerChanges = { added: [], updated: [], removed: [] };

    // One `wg set` for every change: a rotated key's old peer holds the allowed-ips its new one
    // needs, and removing it in a command of its own left a gap in which packets to that node had
    // no peer (seen as failed requests across a key rotation). Removals come first in the command.
    const args: string[] = [];
    for (const peer of current.peers) {
      if (wanted.has(peer.publicKey)) continue;
      args.push('peer', peer.publicKey, 'remove');
      changes.removed.push(peer.publicKey);
    }
    const byKey = new Map(current.peers.map((p) => [p.publicKey, p]));
    for (const [key, node] of wanted) {
      const endpoint = `${node.underlayIP}:${node.wireguardPort}`;
      const existing = byKey.get(key);
      const keepalive = this.options.persistentKeepalive;
      if (
        existing &&
        existing.endpoint === endpoint &&
        existing.allowedIPs.join(',') === node.podCIDR &&
        existing.persistentKeepalive === keepalive
      ) {
        continue;
      }
      args.push(
        'peer',
        key,
        'endpoint',
        endpoint,
        'allowed-ips',
        node.podCIDR,
        'persistent-keepalive',
        keepalive === 0 ? 'off' : String(keepalive),
      );
      (existing ? changes.updated : changes.added).push(node.name);
    }
    if (args.length > 0) await run('wg', ['set', name, ...args]);
    await this.routes.sync(remote.map((n) => n.podCIDR));
    await this.steering.ensure();
    return changes;
  }

  /** New private key, applied to the live device; the caller republishes the public key. */
  async rotateKey(): Promise<KeyPair> {
    const next = generateKeyPair();
    writePrivateKey(this.keyPath, next.privateKey);
    await run('wg', ['set', this.options.interfaceName, 'private-key', this.keyPath]);
    this.keys = next;
    this.options.log(`wireguard: rotated key, now ${next.publicKey}`);
    return next;
  }

  async status(nowMs = Date.now()): Promise<EncryptStatus> {
    const dump = await this.dump();
    return {
      mechanism: this.device?.mechanism ?? 'unknown',
      interface: this.options.interfaceName,
      publicKey: dump.publicKey,
      listenPort: dump.listenPort,
      mtu: this.options.mtu,
      observedAt: new Date(nowMs).toISOString(),
      steering: this.steering.status(),
      peers: dump.peers.map((p) => ({
        node: this.peerNames.get(p.publicKey),
        publicKey: p.publicKey,
        endpoint: p.endpoint,
        allowedIPs: p.allowedIPs,
        latestHandshake: p.latestHandshake > 0 ? new Date(p.latestHandshake * 1000).toISOString() : undefined,
        handshakeAgeSeconds:
          p.latestHandshake > 0 ? Math.max(0, Math.round(nowMs / 1000 - p.latestHandshake)) : undefined,
        rxBytes: p.rxBytes,
        txBytes: p.txBytes,
        persistentKeepalive: p.persistentKeepalive,
      })),
    };
  }
}
