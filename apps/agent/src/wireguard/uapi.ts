/**
 * Reading a userspace WireGuard device (wireguard-go) through its UAPI socket, as `wg show` does,
 * without a process per reading: the agent reads its device at every resync and every status and
 * metrics request, and spawning `wg` (a fork of a ~150 MB process) was most of its idle CPU.
 * Protocol: https://www.wireguard.com/xplatform/ ("get=1\n\n", key=value lines, "errno=0\n\n").
 */
import { connect } from 'node:net';
import { publicKeyOf } from './keys.js';
import type { WgInterfaceState, WgPeerState } from './dump.js';

/** Where wireguard-go listens for an interface (its default run directory). */
export function uapiSocketPath(interfaceName: string, runDir = '/var/run/wireguard'): string {
  return `${runDir}/${interfaceName}.sock`;
}

const hexToBase64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');

/** The UAPI "get" answer as `wg show dump` would give it (keys in base64, keepalive 0 = off). */
export function parseUapiGet(text: string): WgInterfaceState {
  let publicKey = '';
  let listenPort = 0;
  let errno: number | undefined;
  const peers: WgPeerState[] = [];
  let peer: WgPeerState | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`unexpected UAPI line: ${JSON.stringify(line.slice(0, 80))}`);
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'public_key') {
      peer = {
        publicKey: hexToBase64(value),
        endpoint: undefined,
        allowedIPs: [],
        latestHandshake: 0,
        rxBytes: 0,
        txBytes: 0,
        persistentKeepalive: 0,
      };
      peers.push(peer);
    } else if (key === 'errno') errno = Number(value);
    else if (!peer) {
      if (key === 'private_key') publicKey = publicKeyOf(hexToBase64(value));
      else if (key === 'listen_port') listenPort = Number(value);
    } else if (key === 'endpoint') peer.endpoint = value;
    else if (key === 'allowed_ip') peer.allowedIPs.push(value);
    else if (key === 'last_handshake_time_sec') peer.latestHandshake = Number(value);
    else if (key === 'rx_bytes') peer.rxBytes = Number(value);
    else if (key === 'tx_bytes') peer.txBytes = Number(value);
    else if (key === 'persistent_keepalive_interval') peer.persistentKeepalive = Number(value);
  }
  if (errno === undefined) throw new Error('UAPI answer ended without errno');
  if (errno !== 0) throw new Error(`UAPI get failed: errno ${errno}`);
  return { publicKey, listenPort, peers };
}

/** One "get=1" over the device's UAPI socket; rejects on a missing socket, an error or a timeout. */
export function readUapi(socketPath: string, timeoutMs = 2000): Promise<WgInterfaceState> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let text = '';
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`UAPI ${socketPath}: no answer in ${timeoutMs} ms`)));
    socket.on('error', (err) => fail(new Error(`UAPI ${socketPath}: ${err.message}`)));
    socket.on('connect', () => socket.write('get=1\n\n'));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      // the answer ends with errno=N and an empty line
      if (!/(^|\n)errno=-?\d+\n\n$/.test(text)) return;
      socket.end();
      try {
        resolve(parseUapiGet(text));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}
