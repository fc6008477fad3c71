// The app's state and its data layer: the route (screen, filters, time range), live flows in a
// bounded ring, the service map built incrementally as flows arrive, relay status with the
// node-gone banner, and the encryption status polled every 2 s. Components read it and call its
// actions; only this store talks to the api/ layer.
import { api, ApiError } from '../api/rest.js';
import { LiveConnection, type ConnectionState, type LiveBatch } from '../api/live.js';
import type { ChartResponse, EncryptionResponse, StatusResponse } from '../../server/index.js';
import { chartsOf, type ChartId, type ChartRange } from '../../shared/charts.js';
import { asFlow, type FlowView } from '../../shared/flow-fields.js';
import { parseFilterEntries, FilterSyntaxError } from '../../shared/filter-entry.js';
import { formatRoute, parseRoute, type Route } from '../domain/route.js';
import { ServiceMapBuilder } from '../domain/service-map.js';
import { FlowRing } from './flow-ring.js';
import { PairWindow } from './pair-window.js';
import { Observable } from './observable.js';

export const flowCapacity = 10_000;

const hiddenColumnsKey = 'wirescope.flows.hiddenColumns';

function readHiddenColumns(): Set<string> {
  try {
    const saved = JSON.parse(localStorage.getItem(hiddenColumnsKey) ?? '[]') as unknown;
    return new Set(Array.isArray(saved) ? saved.map(String) : []);
  } catch {
    return new Set();
  }
}

export class AppStore extends Observable {
  route: Route;
  readonly flows = new FlowRing<FlowView>(flowCapacity);
  map = new ServiceMapBuilder();
  /** Changes when a card or link appears: the map's layout is recomputed only then. */
  mapShape = 0;
  readonly pairs = new PairWindow();
  paused = false;
  /** Flows that arrived while paused (not added: the table holds still). */
  missedWhilePaused = 0;
  skipped = 0;
  lost = 0;
  flowsPerSecond = 0;
  filterError: string | undefined;
  historyError: string | undefined;
  loadingHistory = false;
  connection: ConnectionState = 'connecting';
  status: StatusResponse | undefined;
  statusError: string | undefined;
  encryption: EncryptionResponse | undefined;
  previousEncryption: EncryptionResponse | undefined;
  encryptionError: string | undefined;
  selected: FlowView | undefined;
  /** The selected flow whole (a live row carries part of it): fetched when a row opens. */
  selectedFull: FlowView | undefined;
  /** Why the whole flow could not be fetched (the panel then shows the row's fields). */
  selectedFullError: string | undefined;
  /** History's whole flows, as opposed to live rows (marked this way round: rows are the many). */
  private readonly whole = new WeakSet<FlowView>();
  namespaces: string[] = [];
  /** The current screen's Prometheus charts, refreshed every 10 s; an error says why there is none. */
  readonly charts = new Map<ChartId, { data?: ChartResponse; error?: string }>();
  chartRange: ChartRange = '15m';
  /** Flows table columns the user hid (kept in localStorage: a preference, not a selection). */
  hiddenColumns: ReadonlySet<string> = readHiddenColumns();
  private live: LiveConnection | undefined;
  private rateCount = 0;
  private timers: ReturnType<typeof setInterval>[] = [];

  constructor() {
    super();
    this.route = parseRoute(location.pathname, location.search);
  }

  start(): void {
    this.live = new LiveConnection({
      batch: (b) => this.onBatch(b),
      status: (s) => {
        if ('error' in s) this.statusError = s.error.message;
        else {
          this.status = s;
          this.statusError = undefined;
        }
        this.changed();
      },
      streamError: (e) => {
        this.historyError = `live stream ended: ${e.message}`;
        this.changed();
      },
      connection: (state) => {
        this.connection = state;
        this.changed();
      },
    });
    addEventListener('popstate', () => {
      this.route = parseRoute(location.pathname, location.search);
      void this.refreshCharts();
      void this.applySelection();
    });
    this.timers.push(
      setInterval(() => {
        this.flowsPerSecond = this.rateCount;
        this.rateCount = 0;
        this.changed();
      }, 1000),
      setInterval(() => void this.refreshEncryption(), 2000),
      setInterval(() => void this.refreshCharts(), 10_000),
    );
    void this.refreshCharts();
    void this.refreshEncryption();
    void api.namespaces().then(
      (r) => {
        this.namespaces = r.namespaces.map((n) => n.namespace);
        this.changed();
      },
      () => {},
    );
    void this.applySelection();
  }

  /** Live unless a time range is set; a bad filter stops nothing and says why. */
  private async applySelection(): Promise<void> {
    const { filters, since, until } = this.route;
    try {
      parseFilterEntries(filters);
    } catch (err) {
      this.filterError = err instanceof FilterSyntaxError ? err.message : String(err);
      this.changed();
      return;
    }
    this.filterError = undefined;
    this.historyError = undefined;
    this.resetFlows();
    if (since || until) {
      this.live?.unsubscribe();
      await this.loadHistory();
    } else {
      const ack = await this.live?.subscribe(filters);
      if (ack && !ack.ok) this.filterError = ack.error.message;
      // the recent past first, so the map and table are not empty until new flows come
      if (ack?.ok) await this.loadHistory(true);
    }
    this.changed();
  }

  private async loadHistory(recent = false): Promise<void> {
    this.loadingHistory = true;
    this.changed();
    try {
      const res = await api.flows({
        filters: this.route.filters,
        since: this.route.since,
        until: this.route.until,
        limit: recent ? 2000 : 20000,
      });
      const flows = res.flows.map(asFlow);
      for (const f of flows) this.whole.add(f);
      // history is oldest first; live flows that already arrived are newer: keep them on top
      const live = [...this.flows];
      this.resetFlows();
      for (const f of [...flows, ...live]) this.addFlow(f, false);
    } catch (err) {
      const e = err as ApiError;
      if (e.code === 'INVALID_FILTER') this.filterError = e.message;
      else this.historyError = e.message;
    } finally {
      this.loadingHistory = false;
      this.changed();
    }
  }

  private resetFlows(): void {
    this.flows.clear();
    this.map = new ServiceMapBuilder();
    this.pairs.clear();
    this.mapShape++;
    this.selected = undefined;
    this.missedWhilePaused = 0;
  }

  private addFlow(f: FlowView, live: boolean): void {
    const cards = this.map.map.cards.size;
    const links = this.map.map.links.size;
    this.map.add(f);
    if (this.map.map.cards.size !== cards || this.map.map.links.size !== links) this.mapShape++;
    if (live) this.pairs.add(f);
    else {
      const t = Date.parse(f.time ?? '');
      if (t > Date.now() - 60_000) this.pairs.add(f, t);
    }
    this.flows.push(f);
  }

  private onBatch(b: LiveBatch): void {
    this.skipped += b.skipped;
    this.lost += b.lost;
    this.rateCount += b.flows.length;
    if (this.route.since || this.route.until) return;
    for (const f of b.flows) {
      if (this.paused) {
        this.missedWhilePaused++;
        this.pairs.add(f);
      } else this.addFlow(f, true);
    }
    this.changed();
  }

  private async refreshEncryption(): Promise<void> {
    try {
      const next = await api.encryption();
      if (this.encryption) this.previousEncryption = this.encryption;
      this.encryption = next;
      this.encryptionError = undefined;
    } catch (err) {
      this.encryptionError = (err as Error).message;
    }
    this.changed();
  }

  private async refreshCharts(): Promise<void> {
    const ids = chartsOf(this.route.screen);
    for (const id of this.charts.keys()) if (!ids.includes(id)) this.charts.delete(id);
    await Promise.all(
      ids.map(async (id) => {
        try {
          this.charts.set(id, { data: await api.chart(id, this.chartRange) });
        } catch (err) {
          this.charts.set(id, { error: (err as Error).message });
        }
      }),
    );
    this.changed();
  }

  toggleColumn(id: string): void {
    const next = new Set(this.hiddenColumns);
    if (!next.delete(id)) next.add(id);
    this.hiddenColumns = next;
    try {
      localStorage.setItem(hiddenColumnsKey, JSON.stringify([...next]));
    } catch {
      // storage may be off (private windows): the choice lasts this page
    }
    this.changedNow();
  }

  setChartRange(range: ChartRange): void {
    this.chartRange = range;
    void this.refreshCharts();
  }

  navigate(patch: Partial<Route>): void {
    const before = this.route;
    this.route = { ...this.route, ...patch };
    history.pushState(null, '', formatRoute(this.route));
    if (before.screen !== this.route.screen) void this.refreshCharts();
    const selectionChanged =
      JSON.stringify([before.filters, before.since, before.until]) !==
      JSON.stringify([this.route.filters, this.route.since, this.route.until]);
    if (selectionChanged) void this.applySelection();
    else this.changedNow();
  }

  /** Opening a row pauses live mode (as Whisker does); closing it resumes. */
  select(flow: FlowView | undefined): void {
    this.selected = flow;
    this.selectedFullError = undefined;
    this.selectedFull = flow && this.whole.has(flow) ? flow : undefined;
    if (flow) this.paused = true;
    else this.resume();
    this.changedNow();
    if (flow && !this.selectedFull) void this.fetchWhole(flow);
  }

  private async fetchWhole(row: FlowView): Promise<void> {
    try {
      if (!row.uuid) throw new Error('the flow has no uuid');
      const { flow } = await api.flow(row.uuid);
      if (this.selected === row) this.selectedFull = asFlow(flow);
    } catch (err) {
      if (this.selected === row) this.selectedFullError = (err as Error).message;
    }
    this.changed();
  }

  pause(): void {
    this.paused = true;
    this.changedNow();
  }

  resume(): void {
    this.paused = false;
    this.missedWhilePaused = 0;
    this.changedNow();
  }

  /** Nodes the relay reports unavailable, for the banner. */
  get unavailableNodes(): string[] {
    return this.status?.unavailableNodes ?? [];
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.live?.close();
  }
}
