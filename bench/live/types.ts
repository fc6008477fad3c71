// Messages between bench/live.ts and its follower processes (bench/live/follower.ts).

/** A lost_events notice as the follower received it, placed in time by its own time field. */
export interface LostNotice {
  micros: number;
  node: string;
  source: string;
  count: number;
}

export type FollowerRequest =
  | { type: 'ready' }
  /**
   * Flows stamped in (fromMicros, toMicros], or per node in its own window (the agents' newest
   * flow times at two samples: exactly the flows their seen_flows counted in between).
   */
  | {
      type: 'window';
      fromMicros: number;
      toMicros: number;
      perNode?: Record<string, { fromMicros: number; toMicros: number }>;
    };

export type FollowerReply =
  | { type: 'ready'; connected: boolean }
  | {
      type: 'window';
      perNode: Record<string, number>;
      lost: LostNotice[];
      /** The newest flow time seen per node: the follower has caught up to a moment once past it. */
      newestMicros: Record<string, number>;
      flows: number;
      meanFlowBytes: number;
    }
  | { type: 'ended'; code: number; details: string };
