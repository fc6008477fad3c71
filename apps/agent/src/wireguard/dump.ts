/** Parsed `wg show <if> dump`: the interface line, then one line per peer (tab-separated). */
export interface WgInterfaceState {
  publicKey: string;
  listenPort: number;
  peers: WgPeerState[];
}

export interface WgPeerState {
  publicKey: string;
  endpoint: string | undefined;
  allowedIPs: string[];
  /** Unix seconds; 0 = never. */
  latestHandshake: number;
  rxBytes: number;
  txBytes: number;
  persistentKeepalive: number;
}

export function parseWgDump(text: string): WgInterfaceState {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const head = lines[0]?.split('\t');
  if (!head || head.length < 4)
    throw new Error(`unexpected "wg show dump" output: ${JSON.stringify(text.slice(0, 80))}`);
  const peers = lines.slice(1).map((line): WgPeerState => {
    const f = line.split('\t');
    if (f.length < 8) throw new Error(`unexpected "wg show dump" peer line: ${JSON.stringify(line)}`);
    return {
      publicKey: f[0] ?? '',
      endpoint: f[2] === '(none)' ? undefined : f[2],
      allowedIPs: f[3] === '(none)' || !f[3] ? [] : f[3].split(','),
      latestHandshake: Number(f[4]),
      rxBytes: Number(f[5]),
      txBytes: Number(f[6]),
      persistentKeepalive: f[7] === 'off' ? 0 : Number(f[7]),
    };
  });
  return { publicKey: head[1] ?? '', listenPort: Number(head[2]), peers };
}
