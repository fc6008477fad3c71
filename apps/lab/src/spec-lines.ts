// Where a spec problem is: the file's line of a field (or of its key), from the YAML document.
import { LineCounter, isMap, isScalar, isSeq, type Document, type Node as YamlNode } from 'yaml';
import type { Path } from './spec-schema.js';

export function fieldName(path: Path): string {
  return (
    path.reduce<string>(
      (acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part),
      '',
    ) || '(document)'
  );
}

/** Collects "file:line: field: message" problems; `sorted()` lists them in file order. */
export class ProblemList {
  private readonly entries: { line: number; text: string }[] = [];
  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  get length(): number {
    return this.entries.length;
  }

  /** Line of the value at path, or of its key when `atKey` (unknown fields point at the key). */
  line(path: Path, atKey = false): number {
    for (let depth = path.length; depth > 0; depth--) {
      const parentPath = path.slice(0, depth - 1);
      const last = path[depth - 1];
      const parent =
        parentPath.length === 0
          ? this.doc.contents
          : (this.doc.getIn(parentPath, true) as YamlNode | undefined);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
        const target = atKey || !pair?.value ? pair?.key : pair.value;
        const range = (target as YamlNode | undefined)?.range;
        if (range) return this.lines.linePos(range[0]).line;
      } else if (isSeq(parent) && typeof last === 'number') {
        const range = (parent.items[last] as YamlNode | undefined)?.range;
        if (range) return this.lines.linePos(range[0]).line;
      }
      atKey = false;
    }
    return 1;
  }

  add(path: Path, message: string, atKey = false): void {
    const line = this.line(path, atKey);
    this.entries.push({ line, text: `${this.file}:${line}: ${fieldName(path)}: ${message}` });
  }

  /** By line; problems on one line in the order they were found. */
  sorted(): string[] {
    return [...this.entries].sort((a, b) => a.line - b.line).map((e) => e.text);
  }
}
