// The flow ring: fixed capacity 2^n - 1 like Hubble's, newest entries overwrite the oldest.
import { fromBinary } from '@bufbuild/protobuf';
import {
  FlowSchema,
  compileEncoder,
  encodeFlowResponse,
  encodeStampedFlowResponse,
  encodeRecordResponse,
  findField,
  flowTimeMicros,
  recordTimeMicros,
  recordToFlow,
  type Flow,
  type FlowRecord,
  type TimeMicros,
} from '@wirescope/flow';

// ~15x faster than toBinary (bench:flow-encode); its results are views of shared 64 KiB blocks
const encodeFlow = compileEncoder(FlowSchema);

export class RingEntry {
  private flowValue: Flow | undefined;
  private bytesValue: Uint8Array | undefined;
  private responseValue: Uint8Array | undefined;
  /** The live path's record (Observer.pushRecord) until settle(); its response is written at once. */
  private recordValue: FlowRecord | undefined;
  /** The observer has counted this flow's namespaces (for GetNamespaces). */
  namespacesNoted = false;

  constructor(
    readonly seq: number,
    readonly time: TimeMicros,
    readonly nodeName: string,
    flow: Flow | undefined,
    bytes: Uint8Array | undefined,
    /** Recorded flow bytes without a time, replayed at `time` (see Observer.pushReplayed). */
    private readonly unstamped?: Uint8Array,
    record?: FlowRecord,
  ) {
    this.flowValue = flow;
    this.bytesValue = bytes;
    if (record !== undefined) {
      this.recordValue = record;
      this.responseValue = encodeRecordResponse(record);
    }
  }

  /**
   * The flow message. Until settle() it is the object pushed (or, for a record, built from it on
   * first use); after, or for an entry pushed as bytes, it is decoded from the wire bytes on each
   * read (not kept: the ring holds bytes only).
   */
  get flow(): Flow {
    if (this.flowValue === undefined && this.recordValue !== undefined)
      this.flowValue = recordToFlow(this.recordValue);
    return this.flowValue ?? fromBinary(FlowSchema, this.bytes);
  }

  /** An entry of a packed slot (FlowRing.pack): nothing but its response bytes. */
  static ofResponse(
    seq: number,
    time: TimeMicros,
    nodeName: string,
    response: Uint8Array,
    namespacesNoted: boolean,
  ): RingEntry {
    const entry = new RingEntry(seq, time, nodeName, undefined, undefined);
    entry.responseValue = response;
    entry.namespacesNoted = namespacesNoted;
    return entry;
  }

  /** The response, when it is all the entry holds after settle() (the ring can pack it). */
  settledResponse(): Uint8Array | undefined {
    if (this.flowValue !== undefined || this.recordValue !== undefined) return undefined;
    return this.responseValue;
  }

  /** The record pushed (Observer.pushRecord), until settle(). */
  get record(): FlowRecord | undefined {
    return this.recordValue;
  }

  /**
   * Keeps only the wire bytes: the encoded GetFlowsResponse (built now if no client needed it)
   * and the flow inside it; the message object graph (a few KiB a flow) goes to the GC. Called
   * once the hooks and the live clients have had the flow, so 65,535 flows cost ~500 B each.
   */
  settle(): void {
    if (this.recordValue !== undefined) {
      // the response holds the flow: its range is found when someone asks for the bytes
      this.recordValue = undefined;
      this.flowValue = undefined;
      return;
    }
    if (this.flowValue === undefined) return;
    const response = this.response;
    const range = findField(response, 1);
    if (range) this.bytesValue = response.subarray(range[0], range[1]);
    this.flowValue = undefined;
  }

  get decoded(): boolean {
    return this.flowValue !== undefined || this.recordValue !== undefined;
  }

  get bytes(): Uint8Array {
    if (this.bytesValue === undefined) {
      if (this.unstamped || this.responseValue !== undefined) {
        const flow = findField(this.response, 1)!;
        this.bytesValue = this.response.subarray(flow[0], flow[1]);
      } else this.bytesValue = encodeFlow(this.flowValue!);
    }
    return this.bytesValue;
  }

  /** The encoded GetFlowsResponse: built once, shared by every client. */
  get response(): Uint8Array {
    if (this.responseValue === undefined) {
      this.responseValue = this.unstamped
        ? encodeStampedFlowResponse(this.unstamped, this.nodeName, this.time)
        : encodeFlowResponse(this.bytes, this.nodeName, this.time);
    }
    return this.responseValue;
  }
}

/** 16x Hubble's default of 4,095 flows: a burst of fresh connections stays in the history. */
export const defaultFlowCapacity = 65535;
export const maxFlowCapacity = 2 ** 24 - 1;

/** Why `n` is no flow ring capacity (Hubble's rule: 2^n - 1), or undefined when it is one. */
export function flowCapacityProblem(n: number): string | undefined {
  if (Number.isInteger(n) && n >= 1 && n <= maxFlowCapacity && ((n + 1) & n) === 0) return undefined;
  return `${n} is not a valid flow ring capacity; accepted: 2^n - 1 from 1 to ${maxFlowCapacity} (e.g. 4095, 65535)`;
}

export function isValidCapacity(n: number): boolean {
  return flowCapacityProblem(n) === undefined;
}

export class FlowRing {
  private readonly slots: (RingEntry | undefined)[];
  // Packed slots (see pack()): a settled flow as the place of its response bytes in a shared
  // block, with its time and node, instead of an entry object and a view per flow. Objects the
  // ring holds live for a ring's turn: the GC copied each one twice and then traced it, and
  // scavenges of a full ring were ~15% of the live path's CPU.
  private readonly buffers: (ArrayBufferLike | undefined)[];
  private readonly offsets: Int32Array;
  private readonly lengths: Int32Array;
  private readonly times: Float64Array;
  private readonly nodes: (string | undefined)[];
  private readonly noted: Uint8Array;
  /** Sequence number the next entry gets; also the number of entries ever written. */
  private next = 0;

  constructor(readonly capacity: number) {
    const problem = flowCapacityProblem(capacity);
    if (problem) throw new RangeError(problem);
    this.slots = new Array<RingEntry | undefined>(capacity + 1);
    this.buffers = new Array<ArrayBufferLike | undefined>(capacity + 1);
    this.offsets = new Int32Array(capacity + 1);
    this.lengths = new Int32Array(capacity + 1);
    this.times = new Float64Array(capacity + 1);
    this.nodes = new Array<string | undefined>(capacity + 1);
    this.noted = new Uint8Array(capacity + 1);
  }

  /**
   * Keeps a delivered, settled entry as its response bytes only (a packed slot); entries still
   * holding a message or record, or without response bytes yet, stay as they are. get(),
   * last() and snapshot() give packed slots back as entries made on the spot.
   */
  pack(entry: RingEntry): void {
    const response = entry.settledResponse();
    const slot = entry.seq & this.capacity;
    if (response === undefined || this.slots[slot] !== entry) return;
    this.slots[slot] = undefined;
    this.buffers[slot] = response.buffer;
    this.offsets[slot] = response.byteOffset;
    this.lengths[slot] = response.byteLength;
    this.times[slot] = entry.time;
    this.nodes[slot] = entry.nodeName;
    this.noted[slot] = entry.namespacesNoted ? 1 : 0;
  }

  /** Whether GetNamespaces has counted the namespaces of the flow at `seq` (no entry is made). */
  isNoted(seq: number): boolean {
    const slot = seq & this.capacity;
    const entry = this.slots[slot];
    return entry ? entry.namespacesNoted : this.noted[slot] === 1;
  }

  /** Records that GetNamespaces has counted the namespaces of the flow at `seq`. */
  markNoted(seq: number): void {
    const slot = seq & this.capacity;
    const entry = this.slots[slot];
    if (entry) entry.namespacesNoted = true;
    else this.noted[slot] = 1;
  }

  private at(seq: number): RingEntry {
    const slot = seq & this.capacity;
    const entry = this.slots[slot];
    if (entry !== undefined) return entry;
    const response = new Uint8Array(this.buffers[slot]!, this.offsets[slot], this.lengths[slot]);
    return RingEntry.ofResponse(seq, this.times[slot]!, this.nodes[slot]!, response, this.noted[slot] === 1);
  }

  get seen(): number {
    return this.next;
  }

  get size(): number {
    return Math.min(this.next, this.capacity);
  }

  /** Sequence of the oldest entry still held. */
  get oldestSeq(): number {
    return this.next - this.size;
  }

  push(
    time: TimeMicros,
    nodeName: string,
    flow: Flow | undefined,
    bytes: Uint8Array | undefined,
    unstamped?: Uint8Array,
  ): RingEntry {
    const entry = new RingEntry(
      this.next,
      time || (flow || unstamped ? 0 : flowTimeMicros(bytes!)),
      nodeName,
      flow,
      bytes,
      unstamped,
    );
    this.place(entry);
    return entry;
  }

  /** Adds the live path's record; its response bytes are written now (see encodeRecordResponse). */
  pushRecord(record: FlowRecord): RingEntry {
    const entry = new RingEntry(
      this.next,
      recordTimeMicros(record),
      record.nodeName,
      undefined,
      undefined,
      undefined,
      record,
    );
    this.place(entry);
    return entry;
  }

  private place(entry: RingEntry): void {
    const slot = this.next & this.capacity;
    this.slots[slot] = entry;
    // the packed flow this one overwrites lets go of its block
    this.buffers[slot] = undefined;
    this.nodes[slot] = undefined;
    this.next++;
  }

  get(seq: number): RingEntry | undefined {
    if (seq < this.oldestSeq || seq >= this.next) return undefined;
    return this.at(seq);
  }

  /** The newest n entries, oldest first. */
  last(n: number): RingEntry[] {
    const out: RingEntry[] = [];
    for (let s = Math.max(this.oldestSeq, this.next - Math.max(0, n)); s < this.next; s++)
      out.push(this.at(s));
    return out;
  }

  /** Entries from oldest to newest (a snapshot: later pushes do not affect it). */
  snapshot(): RingEntry[] {
    const out: RingEntry[] = [];
    for (let s = this.oldestSeq; s < this.next; s++) out.push(this.at(s));
    return out;
  }
}
