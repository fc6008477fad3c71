/**
 * The parser half of Hubble's parser/observer split: ring-buffer bytes -> typed events. Pure:
 * no I/O, no clock; anything that cannot be decoded is counted (never thrown).
 */
import { EventDecoder, type DecodedEvent, type RecordBatchLike } from '@wirescope/events';

export type DatapathEvent = Extract<
  DecodedEvent,
  { kind: 'trace' | 'drop' | 'handshake' | 'policy-verdict' }
>;

export interface DecodeCounters {
  decoded: number;
  /** truncated, foreign, newer or unknown records, and decodable records of other kinds */
  skipped: number;
}

export class FlowDecoder {
  private readonly decoder = new EventDecoder();
  private otherKinds = 0;

  decodeBatch(batch: RecordBatchLike): DatapathEvent[] {
    const out: DatapathEvent[] = [];
    for (const event of this.decoder.decodeBatch(batch)) {
      if (
        event.kind === 'trace' ||
        event.kind === 'drop' ||
        event.kind === 'handshake' ||
        event.kind === 'policy-verdict'
      )
        out.push(event);
      else this.otherKinds++;
    }
    return out;
  }

  decodeRecord(bytes: Uint8Array): DatapathEvent | undefined {
    return this.decodeBatch({ buffer: bytes, offsets: Uint32Array.from([0, bytes.length]), count: 1 })[0];
  }

  counters(): DecodeCounters {
    const s = this.decoder.stats;
    return {
      decoded: s.decoded - this.otherKinds,
      skipped: s.truncated + s.badMagic + s.unknownVersion + s.unknownType + this.otherKinds,
    };
  }
}
