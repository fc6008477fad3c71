// Recent WireGuard handshakes of this node, for the Wirescope service and `wirescope handshakes`.
import { EventEmitter } from 'node:events';
import { create } from '@bufbuild/protobuf';
import { HandshakeEventSchema, type HandshakeEvent } from '@wirescope/flow';

export class HandshakeLog {
  private readonly events: HandshakeEvent[] = [];
  private readonly emitter = new EventEmitter<{ event: [HandshakeEvent] }>();

  /**
   * @param resolvePeer names the node behind a peer's underlay address: the first handshakes of
   *   a starting agent can be seen before it has the node list, so empty peers are filled on read.
   */
  constructor(
    readonly nodeName: string,
    private readonly capacity = 1024,
    private readonly resolvePeer?: (peerAddress: string) => string | undefined,
  ) {}

  push(event: Partial<Omit<HandshakeEvent, '$typeName'>> | HandshakeEvent): HandshakeEvent {
    const ev = create(HandshakeEventSchema, { nodeName: this.nodeName, ...event } as never);
    this.events.push(ev);
    if (this.events.length > this.capacity) this.events.shift();
    this.emitter.emit('event', ev);
    return ev;
  }

  recent(n?: number, peerNode?: string): HandshakeEvent[] {
    if (this.resolvePeer) {
      for (const ev of this.events) if (!ev.peerNode) ev.peerNode = this.resolvePeer(ev.peerAddress) ?? '';
    }
    const matching = peerNode ? this.events.filter((e) => e.peerNode === peerNode) : this.events;
    return n ? matching.slice(-n) : [...matching];
  }

  subscribe(listener: (ev: HandshakeEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
