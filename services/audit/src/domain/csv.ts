/**
 * RFC 4180 CSV: fields holding a comma, a double quote, CR or LF are quoted and their quotes
 * doubled; records end with CRLF. A field starting with = + - @ (or tab/CR) is also prefixed with
 * a single quote, because spreadsheets execute such cells as formulas (CSV injection) and commit
 * messages are written by whoever can push.
 */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRecord(fields: readonly (string | number | null)[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}
