import { Readable } from 'node:stream';
import { StreamableFile } from '@nestjs/common';
import type { Response } from 'express';
import { csvRecord } from '../domain/csv.js';
import type { VisibleDecision } from '../domain/visibility.js';
import { CSV_COLUMNS, csvValues, decisionView } from './views.js';
import type { ExportFormat } from './decisions.query.js';

export type StreamFormat = Exclude<ExportFormat, 'json'>;

/** `format=` wins; otherwise the Accept header may ask for NDJSON or CSV; otherwise a JSON page. */
export function negotiateFormat(format: ExportFormat | undefined, accept: string | undefined): ExportFormat {
  if (format) return format;
  const types = (accept ?? '').toLowerCase();
  if (types.includes('application/x-ndjson')) return 'ndjson';
  if (types.includes('text/csv')) return 'csv';
  return 'json';
}

async function* lines(rows: AsyncIterable<VisibleDecision>, format: StreamFormat): AsyncGenerator<string> {
  if (format === 'csv') yield csvRecord(CSV_COLUMNS);
  for await (const row of rows) {
    yield format === 'csv' ? csvRecord(csvValues(row)) : `${JSON.stringify(decisionView(row))}\n`;
  }
}

/**
 * The response for an export: rows are pulled from the database only as fast as the client
 * reads (stream backpressure), and a client that hangs up stops the walk.
 */
export function exportResponse(
  rows: AsyncIterable<VisibleDecision>,
  format: StreamFormat,
  res: Response,
): StreamableFile {
  const stream = Readable.from(lines(rows, format));
  res.once('close', () => stream.destroy());
  return new StreamableFile(stream, {
    type: format === 'csv' ? 'text/csv; charset=utf-8; header=present' : 'application/x-ndjson',
    ...(format === 'csv' ? { disposition: 'attachment; filename="decisions.csv"' } : {}),
  });
}
