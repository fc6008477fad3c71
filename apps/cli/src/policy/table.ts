/** Rows as left-aligned columns three spaces apart (kubectl's table look), one string per row. */
export function columns(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]! + 3))
      .join('')
      .trimEnd(),
  );
}
