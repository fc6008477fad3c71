/** A user-facing lab error (bad component name, no lab): one line, no stack. */
export class LabError extends Error {
  override name = 'LabError';
}
