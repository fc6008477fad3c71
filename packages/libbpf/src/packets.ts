// Hand-built Ethernet frames for BPF_PROG_TEST_RUN in tests and benchmarks.

export interface FrameOptions {
  src: string;
  dst: string;
  protocol: 'tcp' | 'udp';
  sport: number;
  dport: number;
  tcpFlags?: number;
  payload?: Buffer;
}

function ipv4Bytes(addr: string): Buffer {
  return Buffer.from(addr.split('.').map(Number));
}

function ipv6Bytes(addr: string): Buffer {
  const [head = '', tail = ''] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = addr.includes('::') && tail ? tail.split(':') : [];
  const groups = addr.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** An Ethernet + IPv4/IPv6 + TCP/UDP frame (checksums left zero: BPF does not check them). */
export function buildFrame(options: FrameOptions): Buffer {
  const payload = options.payload ?? Buffer.alloc(0);
  const v6 = options.src.includes(':');
  const l4Len = (options.protocol === 'tcp' ? 20 : 8) + payload.length;
  const l4 = Buffer.alloc(l4Len);
  l4.writeUInt16BE(options.sport, 0);
  l4.writeUInt16BE(options.dport, 2);
  if (options.protocol === 'tcp') {
    l4[12] = 5 << 4;
    l4[13] = options.tcpFlags ?? 0x02;
    payload.copy(l4, 20);
  } else {
    l4.writeUInt16BE(l4Len, 4);
    payload.copy(l4, 8);
  }
  const proto = options.protocol === 'tcp' ? 6 : 17;
  let l3: Buffer;
  if (v6) {
    l3 = Buffer.alloc(40);
    l3[0] = 0x60;
    l3.writeUInt16BE(l4Len, 4);
    l3[6] = proto;
    l3[7] = 64;
    ipv6Bytes(options.src).copy(l3, 8);
    ipv6Bytes(options.dst).copy(l3, 24);
  } else {
    l3 = Buffer.alloc(20);
    l3[0] = 0x45;
    l3.writeUInt16BE(20 + l4Len, 2);
    l3[8] = 64;
    l3[9] = proto;
    ipv4Bytes(options.src).copy(l3, 12);
    ipv4Bytes(options.dst).copy(l3, 16);
  }
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(v6 ? 0x86dd : 0x0800, 12);
  return Buffer.concat([eth, l3, l4]);
}
