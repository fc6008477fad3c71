// Recent WireGuard handshakes of this node, for the Wirescope service and `wirescope handshakes`.
import { EventEmitter } from 'node:events';
import { create } from '@bufbuild/protobuf';
import { HandshakeEventSchema, type HandshakeEvent } from '@wirescope/flow';

export class HandshakeLog {
  private readonly events: HandshakeEvent[] = [];
  private readonly emitter = new EventEmitter<{ event: [HandshakeEvent] }>();

  constructor(
    readonly nodeName: string,
    private readonly capacity = 1024,
  ) {}

  push(event: Partial<Omit<HandshakeEvent, '$typeName'>> | HandshakeEvent): void {
    const ev = create(HandshakeEventSchema, { nodeName: this.nodeName, ...event } as never);
    this.events.push(ev);
    if (this.events.length > this.capacity) this.events.shift();
    this.emitter.emit('event', ev);
  }

  recent(n?: number, peerNode?: string): HandshakeEvent[] {
    const matching = peerNode ? this.events.filter((e) => e.peerNode === peerNode) : this.events;
    return n ? matching.slice(-n) : [...matching];
  }

  subscribe(listener: (ev: HandshakeEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
