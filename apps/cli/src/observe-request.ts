// `wirescope observe`'s flag parser for other programs (the UI server): the same flags build the
// same GetFlowsRequest, so a filter typed in the UI selects exactly what the CLI would.
export { parseObserveArgs, type ObserveOptions } from './observe/flags.js';
export { UsageError } from './command.js';
