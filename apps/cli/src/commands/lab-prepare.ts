import { loadSpec, preflightProblems, SpecError, type LabSpec } from '@wirescope/lab';
import { UsageError } from '../command.js';

/**
 * What `lab up` and `demo` check before creating anything: the spec (every problem printed,
 * with file, line and field) and the machine. Returns the spec, or the exit code to return.
 */
export async function specForLabUp(file: string): Promise<LabSpec | number> {
  let spec: LabSpec;
  try {
    spec = loadSpec(file);
  } catch (err) {
    if (err instanceof SpecError) {
      console.error(
        `wirescope: invalid lab spec, nothing was created:\n${err.problems.map((p) => `  ${p}`).join('\n')}`,
      );
      return 2;
    }
    throw err;
  }
  const problems = await preflightProblems();
  if (problems.length > 0) throw new UsageError(`cannot start the lab: ${problems.join('; ')}`);
  return spec;
}
