// Filter entries (Hubble UI's grammar) to a GetFlowsRequest through `wirescope observe`'s own flag
// parser, so a filter in the UI selects exactly the flows the CLI selects with the same flags.
import type { GetFlowsRequest } from '@wirescope/flow';
import { parseObserveArgs, UsageError } from '@wirescope/cli/observe-request';
import { FilterSyntaxError, observeFlags, parseFilterEntries } from '../shared/filter-entry.js';
import { UiError } from './errors.js';

export interface FlowSelection {
  /** Filter entries, e.g. ["from:pod=shop/frontend", "encrypted=false"]. */
  filters: readonly string[];
  follow?: boolean;
  /** Bounds of a history query as observe takes them: relative ("5m") or RFC3339. */
  since?: string | undefined;
  until?: string | undefined;
  /** The last N flows (per node, as hubble --last through a relay). */
  last?: number | undefined;
}

/** The observe flags of a selection (what `wirescope observe` would be given). */
export function selectionFlags(sel: FlowSelection): string[] {
  let flags: string[];
  try {
    flags = observeFlags(parseFilterEntries(sel.filters));
  } catch (err) {
    if (err instanceof FilterSyntaxError) throw new UiError('INVALID_FILTER', err.message);
    throw err;
  }
  if (sel.follow) flags.push('--follow');
  if (sel.since) flags.push('--since', sel.since);
  if (sel.until) flags.push('--until', sel.until);
  if (sel.last !== undefined) flags.push('--last', String(sel.last));
  else if (!sel.follow && (sel.since || sel.until)) flags.push('--all');
  return flags;
}

export function flowRequest(sel: FlowSelection): GetFlowsRequest {
  const flags = selectionFlags(sel);
  try {
    return parseObserveArgs(flags).request;
  } catch (err) {
    if (err instanceof UsageError) throw new UiError('INVALID_FILTER', err.message);
    throw err;
  }
}

/** One key per distinct filter: sockets with the same filters share one relay stream. */
export function filterKey(filters: readonly string[]): string {
  return JSON.stringify(observeFlags(parseFilterEntries(filters)));
}
