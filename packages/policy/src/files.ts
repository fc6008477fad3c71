/**
 * Policy files from disk, as `kubectl apply -f FILE|DIR` reads them: a directory contributes its
 * *.yaml, *.yml and *.json files (sorted, not recursive). Every problem of every file is
 * reported together; nothing is returned unless all of them parse.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PolicyError, PolicyErrorCode, type PolicyProblem } from './errors.js';
import { parsePolicies } from './parse.js';
import { policyId, type Policy } from './types.js';

const POLICY_FILE = /\.(ya?ml|json)$/;

export function policyFilesOf(path: string): string[] {
  const stat = statSync(path);
  if (!stat.isDirectory()) return [path];
  return readdirSync(path)
    .filter((name) => POLICY_FILE.test(name))
    .sort()
    .map((name) => join(path, name));
}

export function loadPolicyFiles(paths: string[]): Policy[] {
  const problems: PolicyProblem[] = [];
  const policies: Policy[] = [];
  const seen = new Map<string, Policy>();
  for (const path of paths) {
    let files: string[];
    try {
      files = policyFilesOf(path);
    } catch (err) {
      problems.push(fileProblem(path, `cannot read: ${(err as Error).message}`));
      continue;
    }
    if (files.length === 0)
      problems.push(fileProblem(path, 'no *.yaml, *.yml or *.json file in this directory'));
    for (const file of files) {
      try {
        for (const p of parsePolicies(readFileSync(file, 'utf8'), file)) {
          const first = seen.get(policyId(p));
          if (first)
            problems.push({
              code: PolicyErrorCode.INVALID_DOCUMENT,
              file,
              line: p.line,
              field: 'metadata.name',
              message: `${p.kind} "${p.namespace ? `${p.namespace}/` : ''}${p.name}" also at ${first.file}:${first.line}`,
            });
          seen.set(policyId(p), p);
          policies.push(p);
        }
      } catch (err) {
        if (err instanceof PolicyError) problems.push(...err.problems);
        else problems.push(fileProblem(file, `cannot read: ${(err as Error).message}`));
      }
    }
  }
  if (problems.length > 0) throw new PolicyError(problems);
  return policies;
}

function fileProblem(file: string, message: string): PolicyProblem {
  return { code: PolicyErrorCode.INVALID_DOCUMENT, file, line: 1, field: '', message };
}
