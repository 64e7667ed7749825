/** How administration commands print: aligned tables for lists, `key: value` lines for one record. */

/** Aligned columns, for lists. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `key: value` lines, for one record. */
export function record(fields: Record<string, unknown>): string {
  const width = Math.max(...Object.keys(fields).map((k) => k.length));
  return Object.entries(fields)
    .map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${Array.isArray(v) ? v.join(', ') : v === null ? '-' : String(v)}`)
    .join('\n');
}

export function listFooter(list: { start: number; size: number; limit: number }): string {
  return list.size === list.limit
    ? `(${list.size} shown from ${list.start}; more may follow: use --start ${list.start + list.size})`
    : `(${list.size})`;
}
