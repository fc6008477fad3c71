// The lab's DNS server: a tiny authoritative responder over UDP for "<pod>.<namespace>" names
// (and "<pod>.<namespace>.lab"), A records only; anything else gets NXDOMAIN.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { config, log, onSignals } from './common.mjs';

const zone = JSON.parse(readFileSync(process.env.WSL_DNS_ZONE ?? '/dev/null', 'utf8') || '{}');
const TTL = 5;

function readName(msg, offset) {
  const labels = [];
  for (;;) {
    const length = msg[offset];
    if (length === undefined) throw new Error('truncated name');
    offset += 1;
    if (length === 0) break;
    if (length >= 0xc0) throw new Error('compressed question names are not expected');
    labels.push(msg.subarray(offset, offset + length).toString('ascii'));
    offset += length;
  }
  return { name: labels.join('.').toLowerCase(), offset };
}

export function answer(query) {
  if (query.length < 12) return undefined;
  const id = query.readUInt16BE(0);
  const flags = query.readUInt16BE(2);
  if (flags & 0x8000 || query.readUInt16BE(4) !== 1) return undefined; // a response, or not one question
  const { name, offset } = readName(query, 12);
  const qtype = query.readUInt16BE(offset);
  const question = query.subarray(12, offset + 4);
  const address = zone[name] ?? zone[name.replace(/\.lab$/, '')];
  const found = address !== undefined;
  const answers = found && qtype === 1 ? 1 : 0;
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  // QR, opcode 0, AA, RD copied; RCODE 3 (NXDOMAIN) when the name is unknown.
  header.writeUInt16BE(0x8400 | (flags & 0x0100) | (found ? 0 : 3), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers, 6);
  const parts = [header, question];
  if (answers) {
    const record = Buffer.alloc(16);
    record.writeUInt16BE(0xc00c, 0); // pointer to the question's name
    record.writeUInt16BE(1, 2);
    record.writeUInt16BE(1, 4);
    record.writeUInt32BE(TTL, 6);
    record.writeUInt16BE(4, 10);
    address.split('.').forEach((octet, i) => record.writeUInt8(Number(octet), 12 + i));
    parts.push(record);
  }
  return Buffer.concat(parts);
}

const socket = createSocket('udp4');
socket.on('message', (msg, rinfo) => {
  try {
    const reply = answer(msg);
    if (reply) socket.send(reply, rinfo.port, rinfo.address);
  } catch (err) {
    log(`bad query from ${rinfo.address}: ${err.message}`);
  }
});
socket.bind(config.port ?? 53, () =>
  log(`dns-server on udp ${config.port ?? 53} with ${Object.keys(zone).length} names`),
);
onSignals(() => socket.close());
