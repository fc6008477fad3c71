/**
 * The one table the dashboards are generated from: dashboards -> rows -> panels -> queries.
 * `$node` is the dashboards' node variable, `$__rate_interval` Grafana's rate window.
 */

export type PanelKind = 'timeseries' | 'stat' | 'table';

export interface QuerySpec {
  expr: string;
  legend?: string;
  /** a table of current values instead of a range */
  instant?: boolean;
}

export interface PanelSpec {
  title: string;
  description: string;
  kind: PanelKind;
  unit: string;
  queries: QuerySpec[];
  min?: number;
  max?: number;
  /** grid width of 24 (default 12) */
  width?: number;
}

export interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  rows: RowSpec[];
}

const AGENTS = 'job="wirescope-agent",node=~"$node"';
const RATE = '[$__rate_interval]';
const PAIR = '{{source_node}} → {{destination_node}}';
const PEER_JOIN = '* on (instance, device, public_key) group_left (name) wireguard_peer_info';

export const DASHBOARDS: DashboardSpec[] = [
  {
    uid: 'wirescope-encryption',
    title: 'Wirescope / Encryption overview',
    description:
      'Is all pod traffic encrypted, right now, on every node pair? Counted in the kernel for every packet.',
    rows: [
      {
        title: 'Coverage',
        panels: [
          {
            title: 'Encryption coverage (selected nodes)',
            description: 'Share of cross-node pod packets that went into WireGuard.',
            kind: 'stat',
            unit: 'percentunit',
            min: 0,
            max: 1,
            width: 6,
            queries: [
              {
                expr: `sum(rate(wirescope_encryption_packets_total{state="encrypted",${AGENTS}}${RATE})) / sum(rate(wirescope_encryption_packets_total{${AGENTS}}${RATE}))`,
              },
            ],
          },
          {
            title: 'Strict mode',
            description:
              '1: cross-node pod traffic without a WireGuard peer is dropped instead of sent in clear.',
            kind: 'stat',
            unit: 'bool_on_off',
            width: 6,
            queries: [{ expr: `wirescope_strict_mode{${AGENTS}}`, legend: '{{node}}' }],
          },
          {
            title: 'Coverage per node pair',
            description:
              'Encrypted share of cross-node pod packets per pair over 5 minutes (recording rule).',
            kind: 'timeseries',
            unit: 'percentunit',
            min: 0,
            max: 1,
            queries: [{ expr: 'wirescope:encryption_coverage:ratio5m{source_node=~"$node"}', legend: PAIR }],
          },
        ],
      },
      {
        title: 'Plaintext and drops',
        panels: [
          {
            title: 'Cross-node pod packets by state',
            description:
              'encrypted: into WireGuard; plaintext: no peer, sent in clear; dropped: strict mode.',
            kind: 'timeseries',
            unit: 'pps',
            queries: [
              {
                expr: `sum by (state) (rate(wirescope_encryption_packets_total{${AGENTS}}${RATE}))`,
                legend: '{{state}}',
              },
            ],
          },
          {
            title: 'Plaintext packets per node pair',
            description: 'Cross-node pod packets that left without encryption.',
            kind: 'timeseries',
            unit: 'pps',
            queries: [
              {
                expr: `sum by (source_node, destination_node) (rate(wirescope_encryption_packets_total{state="plaintext",${AGENTS}}${RATE}))`,
                legend: PAIR,
              },
            ],
          },
          {
            title: 'Leaks: pod packets in clear on the underlay',
            description: 'Pod-CIDR packets the underlay program saw that were not WireGuard.',
            kind: 'timeseries',
            unit: 'pps',
            queries: [
              {
                expr: `sum by (node) (rate(wirescope_leak_packets_total{${AGENTS}}${RATE}))`,
                legend: '{{node}}',
              },
            ],
          },
          {
            title: 'Strict-mode drops per node pair',
            description: 'Packets dropped with UNENCRYPTED_TRAFFIC because the destination node had no peer.',
            kind: 'timeseries',
            unit: 'pps',
            queries: [
              {
                expr: `sum by (source_node, destination_node) (rate(wirescope_encryption_packets_total{state="dropped",${AGENTS}}${RATE}))`,
                legend: PAIR,
              },
            ],
          },
        ],
      },
    ],
  },
  {
    uid: 'wirescope-wireguard',
    title: 'Wirescope / WireGuard peers',
    description: 'Handshakes, round trips, failures and transfer per node pair.',
    rows: [
      {
        title: 'Handshakes',
        panels: [
          {
            title: 'Handshake age per pair',
            description:
              'Seconds since the last handshake; WireGuard re-keys every 120 s while traffic flows.',
            kind: 'timeseries',
            unit: 's',
            min: 0,
            queries: [
              {
                expr: `(time() - wireguard_peer_last_handshake_seconds{${AGENTS}}) ${PEER_JOIN}`,
                legend: '{{node}} → {{name}}',
              },
            ],
          },
          {
            title: 'Handshake round trip',
            description: 'Initiation to response, from the underlay program, p50 and p99 per pair.',
            kind: 'timeseries',
            unit: 's',
            queries: [
              {
                expr: `histogram_quantile(0.5, sum by (le, node, peer_node) (rate(wirescope_handshake_round_trip_seconds_bucket{${AGENTS}}[5m])))`,
                legend: 'p50 {{node}} → {{peer_node}}',
              },
              {
                expr: `histogram_quantile(0.99, sum by (le, node, peer_node) (rate(wirescope_handshake_round_trip_seconds_bucket{${AGENTS}}[5m])))`,
                legend: 'p99 {{node}} → {{peer_node}}',
              },
            ],
          },
          {
            title: 'Handshakes by outcome',
            description: 'completed: a response; unanswered: a local initiation with no response within 5 s.',
            kind: 'timeseries',
            unit: 'short',
            queries: [
              {
                expr: `sum by (node, peer_node, outcome) (increase(wirescope_handshakes_total{${AGENTS}}[5m]))`,
                legend: '{{node}} → {{peer_node}} {{outcome}}',
              },
            ],
          },
          {
            title: 'Handshake messages and rekeys',
            description:
              'Messages on the underlay by type and direction (cookie replies mean a peer under load), and rekeys.',
            kind: 'timeseries',
            unit: 'short',
            queries: [
              {
                expr: `sum by (message_type, direction) (increase(wirescope_handshake_messages_total{${AGENTS}}[5m]))`,
                legend: '{{message_type}} {{direction}}',
              },
              {
                expr: `sum by (node, peer_node) (increase(wirescope_rekeys_total{${AGENTS}}[5m]))`,
                legend: 'rekeys {{node}} → {{peer_node}}',
              },
            ],
          },
        ],
      },
      {
        title: 'Transfer and peers',
        panels: [
          {
            title: 'Transfer per peer',
            description:
              "Bytes through the WireGuard device to and from each peer (the exporters' counters).",
            kind: 'timeseries',
            unit: 'Bps',
            queries: [
              {
                expr: `rate(wireguard_peer_transmit_bytes_total{${AGENTS}}${RATE}) ${PEER_JOIN}`,
                legend: 'tx {{node}} → {{name}}',
              },
              {
                expr: `rate(wireguard_peer_receive_bytes_total{${AGENTS}}${RATE}) ${PEER_JOIN}`,
                legend: 'rx {{node}} ← {{name}}',
              },
            ],
          },
          {
            title: 'Peers per node',
            description:
              'fresh: the peer node’s agent is alive; stale: gone, its peer kept for the grace period. Compare with the cluster size.',
            kind: 'timeseries',
            unit: 'short',
            min: 0,
            queries: [
              {
                expr: `sum by (node, state) (wirescope_wireguard_peers{${AGENTS}})`,
                legend: '{{node}} {{state}}',
              },
              { expr: `max(wirescope_cluster_nodes{${AGENTS}}) - 1`, legend: 'other nodes' },
            ],
          },
        ],
      },
    ],
  },
  {
    uid: 'wirescope-flows',
    title: 'Wirescope / Flows and drops',
    description: "Hubble's flow metrics: verdicts, event types, drop reasons and the busiest node pairs.",
    rows: [
      {
        title: 'Flows',
        panels: [
          {
            title: 'Flows by verdict',
            description: 'hubble_flows_processed_total by verdict.',
            kind: 'timeseries',
            unit: 'ops',
            queries: [
              {
                expr: `sum by (verdict) (rate(hubble_flows_processed_total{${AGENTS}}${RATE}))`,
                legend: '{{verdict}}',
              },
            ],
          },
          {
            title: 'Flows by type and observation point',
            description:
              'Trace events by observation point (to-crypto/from-crypto: the WireGuard hop), drops.',
            kind: 'timeseries',
            unit: 'ops',
            queries: [
              {
                expr: `sum by (type, subtype) (rate(hubble_flows_processed_total{${AGENTS}}${RATE}))`,
                legend: '{{type}} {{subtype}}',
              },
            ],
          },
          {
            title: 'TCP flags',
            description: 'SYN, SYN-ACK, FIN and RST of forwarded flows.',
            kind: 'timeseries',
            unit: 'ops',
            queries: [
              { expr: `sum by (flag) (rate(hubble_tcp_flags_total{${AGENTS}}${RATE}))`, legend: '{{flag}}' },
            ],
          },
        ],
      },
      {
        title: 'Drops and top pairs',
        panels: [
          {
            title: 'Drops by reason',
            description:
              'hubble_drop_total by drop reason (UNENCRYPTED_TRAFFIC is strict mode) and protocol.',
            kind: 'timeseries',
            unit: 'ops',
            queries: [
              {
                expr: `sum by (reason, protocol) (rate(hubble_drop_total{${AGENTS}}${RATE}))`,
                legend: '{{reason}} {{protocol}}',
              },
            ],
          },
          {
            title: 'Top node pairs by cross-node pod bytes',
            description: 'The ten busiest node pairs, every state.',
            kind: 'table',
            unit: 'Bps',
            queries: [
              {
                expr: `topk(10, sum by (source_node, destination_node) (rate(wirescope_encryption_bytes_total{${AGENTS}}[5m])))`,
                instant: true,
              },
            ],
          },
          {
            title: 'Top destination ports',
            description: 'hubble_port_distribution_total: new connections by protocol and port.',
            kind: 'table',
            unit: 'ops',
            queries: [
              {
                expr: `topk(10, sum by (protocol, port) (rate(hubble_port_distribution_total{${AGENTS}}[5m])))`,
                instant: true,
              },
            ],
          },
        ],
      },
    ],
  },
  {
    uid: 'wirescope-health',
    title: 'Wirescope / Agent and relay health',
    description: 'Targets, lost events, the flow ring, datapath attachments and the relay’s peers.',
    rows: [
      {
        title: 'Targets and datapath',
        panels: [
          {
            title: 'Targets up',
            description: 'Prometheus scrape health of every agent and the relay.',
            kind: 'table',
            unit: 'bool_yes_no',
            queries: [{ expr: 'up{job=~"wirescope-agent|hubble-relay"}', instant: true }],
          },
          {
            title: 'Datapath programs attached',
            description: 'Programs attached per node and hook; a drop means an attach failed.',
            kind: 'timeseries',
            unit: 'short',
            queries: [
              {
                expr: `sum by (node, program) (wirescope_datapath_program_attached{${AGENTS}})`,
                legend: '{{node}} {{program}}',
              },
            ],
          },
        ],
      },
      {
        title: 'Events and ring',
        panels: [
          {
            title: 'Lost events by stage',
            description:
              'kernel_ring: BPF ring buffer full; decode: undecodable records; observer_queue: a slow follower.',
            kind: 'timeseries',
            unit: 'ops',
            queries: [
              {
                expr: `sum by (node, stage) (rate(wirescope_lost_events_total{${AGENTS}}${RATE}))`,
                legend: '{{node}} {{stage}}',
              },
              {
                expr: `sum by (node, source) (rate(hubble_lost_events_total{${AGENTS}}${RATE}))`,
                legend: '{{node}} hubble {{source}}',
              },
            ],
          },
          {
            title: 'Flow ring fill',
            description: "Flows held in each agent's ring over its capacity.",
            kind: 'timeseries',
            unit: 'percentunit',
            min: 0,
            max: 1,
            queries: [
              {
                expr: `wirescope_flow_ring_flows{${AGENTS}} / wirescope_flow_ring_capacity{${AGENTS}}`,
                legend: '{{node}}',
              },
            ],
          },
          {
            title: 'Relay peers by connection status',
            description:
              'hubble_relay_pool_peer_connection_status: every status always present, zeros included.',
            kind: 'timeseries',
            unit: 'short',
            queries: [
              {
                expr: 'sum by (status) (hubble_relay_pool_peer_connection_status{job="hubble-relay"})',
                legend: '{{status}}',
              },
            ],
          },
          {
            title: 'Process CPU',
            description: 'CPU seconds per second of every agent and the relay (process_* exists for both).',
            kind: 'timeseries',
            unit: 'percentunit',
            queries: [
              {
                expr: `rate(process_cpu_seconds_total{job=~"wirescope-agent|hubble-relay"}${RATE})`,
                legend: '{{job}} {{node}}',
              },
            ],
          },
        ],
      },
    ],
  },
];
