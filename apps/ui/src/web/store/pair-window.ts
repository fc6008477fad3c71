// Encrypted / plaintext cross-node flows per node pair in one-second buckets over the last minute,
// so the coverage matrix reflects what the pair does now (a pair made plaintext turns Plaintext in
// seconds), not a lifetime average.
import { flowEncryption, nodePair, type FlowView } from '../../shared/flow-fields.js';
import { pairKey } from '../domain/encryption.js';

const seconds = 60;
/** The recent window the matrix prefers when it has traffic. */
const recentSeconds = 3;

interface Buckets {
  second: Int32Array;
  encrypted: Int32Array;
  plaintext: Int32Array;
}

export class PairWindow {
  private readonly pairs = new Map<string, Buckets>();

  add(f: FlowView, nowMs = Date.now()): void {
    const state = flowEncryption(f);
    if (state !== 'encrypted' && state !== 'plaintext') return;
    const pair = nodePair(f);
    if (!pair) return;
    const key = pairKey(pair.from, pair.to);
    let b = this.pairs.get(key);
    if (!b) {
      b = {
        second: new Int32Array(seconds).fill(-1),
        encrypted: new Int32Array(seconds),
        plaintext: new Int32Array(seconds),
      };
      this.pairs.set(key, b);
    }
    const s = Math.floor(nowMs / 1000);
    const i = s % seconds;
    if (b.second[i] !== s) {
      b.second[i] = s;
      b.encrypted[i] = 0;
      b.plaintext[i] = 0;
    }
    if (state === 'encrypted') b.encrypted[i]!++;
    else b.plaintext[i]!++;
  }

  private sum(b: Buckets, nowS: number, span: number): { encrypted: number; plaintext: number } {
    let encrypted = 0;
    let plaintext = 0;
    for (let i = 0; i < seconds; i++) {
      const age = nowS - b.second[i]!;
      if (b.second[i]! < 0 || age < 0 || age >= span) continue;
      encrypted += b.encrypted[i]!;
      plaintext += b.plaintext[i]!;
    }
    return { encrypted, plaintext };
  }

  /** Per pair: the last 3 s when they carried traffic, else the last minute. */
  counts(nowMs = Date.now()): Map<string, { encrypted: number; plaintext: number }> {
    const nowS = Math.floor(nowMs / 1000);
    const out = new Map<string, { encrypted: number; plaintext: number }>();
    for (const [key, b] of this.pairs) {
      const recent = this.sum(b, nowS, recentSeconds);
      const c = recent.encrypted + recent.plaintext > 0 ? recent : this.sum(b, nowS, seconds);
      if (c.encrypted + c.plaintext > 0) out.set(key, c);
    }
    return out;
  }

  clear(): void {
    this.pairs.clear();
  }
}
