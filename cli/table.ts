/**
 * `--output table`: a plain aligned text table, for a person reading a terminal (json stays the
 * default, for scripts). Columns are the rows' keys in the order they first appear, so a field the
 * functions add later shows up without a change here.
 */

/** One cell: scalars as they are, a list of scalars joined, anything else as compact JSON, on one line. */
export function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return oneLine(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v))) return oneLine(value.join(', '));
  return oneLine(JSON.stringify(value));
}

const oneLine = (s: string) => s.replace(/[\r\n\t]+/g, ' ');

/** Rows (objects) as a table: a header, a rule, a line per row; columns two spaces apart, no trailing space. */
export function renderTable(rows: ReadonlyArray<Record<string, unknown>>): string {
  if (rows.length === 0) return '(none)\n';
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const body = rows.map((row) => columns.map((c) => cell(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((s, i) => s.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n') + '\n';
}

/** A result that is not a list: its top-level fields, one a row. */
export function renderFields(result: Record<string, unknown>): string {
  return renderTable(Object.entries(result).map(([field, value]) => ({ field, value })));
}
