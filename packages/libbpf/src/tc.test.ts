// Real packets through a veth pair between two namespaces, observed by the probe on tc
// ingress and egress of one end, decoded in JS and compared field by field.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventDecoder, type ProbeEvent } from '@wirescope/events';
import { BpfObject, liveResources, type RingBufferReader, type TcLink } from './index.js';
import { VethLab, exitUnlessRoot, waitFor } from './netns-fixture.js';
import { bpfObject } from '@wirescope/bpf';

exitUnlessRoot();

const PROBE_OBJECT = bpfObject('probe');
const lab = new VethLab({ prefix: 'wst1-', tag: `t${process.pid % 10000}`, subnet: 11 });
const decoder = new EventDecoder();
const events: ProbeEvent[] = [];
let probe: BpfObject;
let reader: RingBufferReader;
let links: TcLink[];

before(() => {
  lab.up();
  probe = BpfObject.load(PROBE_OBJECT);
  reader = probe.openRingBuffer('events', (batch) => {
    for (const e of decoder.decodeBatch(batch)) if (e.kind === 'probe') events.push(e);
  });
  links = [
    probe.attachTc('probe_ingress', { ifname: lab.ifA, direction: 'ingress', netns: lab.nsA }),
    probe.attachTc('probe_egress', { ifname: lab.ifA, direction: 'egress', netns: lab.nsA }),
  ];
});

after(() => {
  probe?.close();
  lab.down();
});

function find(match: Partial<ProbeEvent>): ProbeEvent | undefined {
  return events.find((e) => Object.entries(match).every(([k, v]) => e[k as keyof ProbeEvent] === v));
}

async function expectEvent(match: Partial<ProbeEvent>): Promise<ProbeEvent> {
  await waitFor(() => find(match) !== undefined, `event ${JSON.stringify(match)}`);
  return find(match) as ProbeEvent;
}

test('tc links report the interface, handle and priority the kernel chose', () => {
  assert.ok(lab.ifindexA > 0);
  for (const link of links) {
    assert.equal(link.ifindex, lab.ifindexA);
    assert.ok(link.handle > 0 && link.priority > 0);
  }
  const shown = lab.tcFilters(lab.nsA, lab.ifA);
  assert.match(shown, /probe_ingress/);
  assert.match(shown, /probe_egress/);
});

test('IPv4 ping: echo request at ingress, echo reply at egress', async () => {
  lab.run(lab.nsB, 'ping', ['-c', '1', '-W', '2', lab.ipA]);
  const request = await expectEvent({ protocol: 1, direction: 'ingress', icmpType: 8, saddr: lab.ipB });
  assert.deepEqual(
    { ...request, header: undefined },
    {
      kind: 'probe',
      header: undefined,
      family: 4,
      saddr: lab.ipB,
      daddr: lab.ipA,
      sport: 0,
      dport: 0,
      ifindex: lab.ifindexA,
      pktLen: 98, // 14 Ethernet + 20 IPv4 + 8 ICMP + 56 payload
      protocol: 1,
      tcpFlags: 0,
      direction: 'ingress',
      icmpType: 8,
      icmpCode: 0,
    },
  );
  assert.equal(request.header.type, 1);
  assert.equal(request.header.len, 80);
  const reply = await expectEvent({ protocol: 1, direction: 'egress', icmpType: 0, saddr: lab.ipA });
  assert.equal(reply.daddr, lab.ipB);
  assert.equal(reply.pktLen, 98);
  assert.equal(reply.ifindex, lab.ifindexA);
  assert.ok(reply.header.ktimeNs >= request.header.ktimeNs);
});

test('IPv4 UDP to a closed port: datagram at ingress, ICMP port unreachable at egress', async () => {
  lab.node(
    lab.nsB,
    `import dgram from 'node:dgram';
     const s = dgram.createSocket('udp4');
     s.bind(40000, () => s.send(Buffer.from('hello'), 9, '${lab.ipA}', () => s.close()));`,
  );
  const datagram = await expectEvent({ protocol: 17, direction: 'ingress', sport: 40000 });
  assert.equal(datagram.dport, 9);
  assert.equal(datagram.saddr, lab.ipB);
  assert.equal(datagram.daddr, lab.ipA);
  assert.equal(datagram.pktLen, 14 + 20 + 8 + 5);
  const unreachable = await expectEvent({ protocol: 1, direction: 'egress', icmpType: 3 });
  assert.equal(unreachable.icmpCode, 3);
  assert.equal(unreachable.daddr, lab.ipB);
});

test('IPv4 TCP connect to a closed port: SYN in, RST|ACK out', async () => {
  lab.node(
    lab.nsB,
    `import net from 'node:net';
     const c = net.connect({ host: '${lab.ipA}', port: 9, localPort: 40001 });
     c.on('error', () => {});`,
  );
  const syn = await expectEvent({ protocol: 6, direction: 'ingress', sport: 40001 });
  assert.equal(syn.dport, 9);
  assert.equal(syn.tcpFlags, 0x02);
  const rst = await expectEvent({ protocol: 6, direction: 'egress', dport: 40001 });
  assert.equal(rst.sport, 9);
  assert.equal(rst.tcpFlags, 0x14); // RST|ACK
  assert.equal(rst.saddr, lab.ipA);
});

test('IPv4 TCP handshake and close with a listener: SYN, SYN|ACK, ACK, FIN', async () => {
  await lab.background(
    lab.nsA,
    `import net from 'node:net';
     net.createServer((s) => s.end()).listen(8080, '${lab.ipA}', () => console.log('ready'));`,
  );
  lab.node(
    lab.nsB,
    `import net from 'node:net';
     const c = net.connect({ host: '${lab.ipA}', port: 8080, localPort: 40002 });
     c.on('data', () => {}); c.on('end', () => c.end());
     await new Promise((r) => c.on('close', r));`,
  );
  await expectEvent({ protocol: 6, direction: 'ingress', sport: 40002, dport: 8080, tcpFlags: 0x02 });
  await expectEvent({ protocol: 6, direction: 'egress', sport: 8080, dport: 40002, tcpFlags: 0x12 });
  await expectEvent({ protocol: 6, direction: 'ingress', sport: 40002, dport: 8080, tcpFlags: 0x10 });
  await waitFor(
    () =>
      events.some(
        (e) => e.protocol === 6 && e.direction === 'egress' && e.sport === 8080 && (e.tcpFlags & 0x01) !== 0,
      ),
    'server FIN at egress',
  );
});

test('IPv6 ping and UDP: 16-byte addresses, ICMPv6 types, ports', async () => {
  lab.run(lab.nsB, 'ping', ['-6', '-c', '1', '-W', '2', lab.ip6A]);
  const request = await expectEvent({ family: 6, protocol: 58, direction: 'ingress', icmpType: 128 });
  assert.equal(request.saddr, lab.ip6B);
  assert.equal(request.daddr, lab.ip6A);
  assert.equal(request.pktLen, 14 + 40 + 8 + 56);
  assert.equal(request.ifindex, lab.ifindexA);
  const reply = await expectEvent({ family: 6, protocol: 58, direction: 'egress', icmpType: 129 });
  assert.equal(reply.saddr, lab.ip6A);
  assert.equal(reply.daddr, lab.ip6B);

  lab.node(
    lab.nsB,
    `import dgram from 'node:dgram';
     const s = dgram.createSocket('udp6');
     s.bind(40003, () => s.send(Buffer.from('v6'), 9, '${lab.ip6A}', () => s.close()));`,
  );
  const datagram = await expectEvent({ family: 6, protocol: 17, direction: 'ingress', sport: 40003 });
  assert.equal(datagram.dport, 9);
  assert.equal(datagram.saddr, lab.ip6B);
  assert.equal(datagram.pktLen, 14 + 40 + 8 + 2);
  // IPv6 TCP SYN to a closed port
  lab.node(
    lab.nsB,
    `import net from 'node:net';
     const c = net.connect({ host: '${lab.ip6A}', port: 9, localPort: 40004 });
     c.on('error', () => {});`,
  );
  const syn = await expectEvent({ family: 6, protocol: 6, direction: 'ingress', sport: 40004 });
  assert.equal(syn.tcpFlags, 0x02);
  const rst = await expectEvent({ family: 6, protocol: 6, direction: 'egress', dport: 40004 });
  assert.equal(rst.tcpFlags, 0x14);
});

test('nothing was lost and nothing was undecodable', () => {
  assert.equal(probe.map('lost_events').sumPerCpuU64(Buffer.alloc(4)), 0n);
  assert.equal(decoder.stats.truncated + decoder.stats.badMagic + decoder.stats.unknownType, 0);
  assert.ok(reader.stats().records >= events.length);
});

test('a second filter on the same hook: explicit priority and handle, detach removes only it', () => {
  const second = probe.attachTc('probe_ingress', {
    ifname: lab.ifA,
    direction: 'ingress',
    netns: lab.nsA,
    priority: 7,
    handle: 7,
  });
  assert.deepEqual([second.priority, second.handle, second.ifindex], [7, 7, lab.ifindexA]);
  const both = lab.tcFilters(lab.nsA, lab.ifA);
  assert.match(both, /pref 7 bpf chain 0 handle 0x7 probe_ingress/);
  assert.equal(both.match(/ probe_ingress:\[/g)?.length, 2);
  second.detach();
  const after = lab.tcFilters(lab.nsA, lab.ifA);
  assert.doesNotMatch(after, /pref 7 /);
  assert.equal(after.match(/ probe_ingress:\[/g)?.length, 1);
});

test('state(): missing once the filter is deleted behind our back or another program takes its place', () => {
  const options = {
    ifname: lab.ifA,
    direction: 'ingress',
    netns: lab.nsA,
    priority: 11,
    handle: 11,
  } as const;
  const link = probe.attachTc('probe_ingress', options);
  assert.equal(link.state(), 'present');
  lab.run(lab.nsA, 'tc', ['filter', 'del', 'dev', lab.ifA, 'ingress', 'pref', '11']);
  assert.equal(link.state(), 'missing');
  assert.equal(link.attached, true, 'attached only says detach() was not called');
  const other = probe.attachTc('probe_egress', options);
  assert.equal(link.state(), 'missing', "the filter at our handle and priority is another program's");
  assert.equal(other.state(), 'present');
  link.detach(); // not ours any more: other's filter stays
  assert.equal(link.state(), 'detached');
  assert.equal(other.state(), 'present');
  other.detach();
  assert.equal(other.state(), 'detached');
});

test("state(): no-interface once the link's interface is deleted", () => {
  const name = `wst1x${process.pid % 10000}`;
  lab.run(lab.nsA, 'ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`]);
  const link = probe.attachTc('probe_ingress', { ifname: name, direction: 'ingress', netns: lab.nsA });
  assert.equal(link.state(), 'present');
  lab.run(lab.nsA, 'tc', ['qdisc', 'del', 'dev', name, 'clsact']);
  assert.equal(link.state(), 'missing', 'no clsact qdisc: no filter');
  lab.run(lab.nsA, 'ip', ['link', 'del', name]); // and its peer
  assert.equal(link.state(), 'no-interface');
  link.detach();
});

test('replace: a filter left at a priority and handle is taken over, not duplicated', () => {
  const options = { ifname: lab.ifA, direction: 'ingress', netns: lab.nsA, priority: 9, handle: 9 } as const;
  const first = probe.attachTc('probe_ingress', options);
  assert.throws(() => probe.attachTc('probe_egress', options), {
    name: 'BpfError',
    code: 'EEXIST',
    step: 'attach-tc',
  });
  const second = probe.attachTc('probe_egress', { ...options, replace: true });
  const shown = lab.tcFilters(lab.nsA, lab.ifA);
  assert.match(shown, /pref 9 bpf chain 0 handle 0x9 probe_egress/);
  assert.doesNotMatch(shown, /pref 9 bpf chain 0 handle 0x9 probe_ingress/);
  first.detach(); // replaced: the filter at pref 9 now runs probe_egress and is not first's
  assert.match(lab.tcFilters(lab.nsA, lab.ifA), /pref 9 bpf chain 0 handle 0x9 probe_egress/);
  second.detach();
  assert.doesNotMatch(lab.tcFilters(lab.nsA, lab.ifA), /pref 9 /);
  assert.throws(() => probe.attachTc('probe_ingress', { ...options, priority: 0, replace: true }), {
    code: 'ERR_INVALID_ARG',
    message: /replace needs an explicit priority and handle/,
  });
});

test('detach removes exactly our filters; close frees everything', () => {
  const [ingress, egress] = links;
  assert.ok(ingress && egress);
  ingress.detach();
  const afterOne = lab.tcFilters(lab.nsA, lab.ifA);
  assert.doesNotMatch(afterOne, /probe_ingress/);
  assert.match(afterOne, /probe_egress/);
  ingress.detach(); // idempotent
  probe.close(); // detaches the egress filter too
  probe.close();
  assert.equal(lab.tcFilters(lab.nsA, lab.ifA).trim(), '');
  assert.equal(egress.attached, false);
  assert.equal(reader.closed, true);
  assert.deepEqual(
    {
      objects: liveResources().objects,
      tcLinks: liveResources().tcLinks,
      ringBuffers: liveResources().ringBuffers,
    },
    { objects: 0, tcLinks: 0, ringBuffers: 0 },
  );
});
