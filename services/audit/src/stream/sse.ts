/** One Server-Sent Events frame; `data` is written one `data:` line per line, as the spec requires. */
export function sseFrame(frame: { id?: string; event?: string; data: string }): string {
  const lines: string[] = [];
  if (frame.id !== undefined) lines.push(`id: ${frame.id}`);
  if (frame.event !== undefined) lines.push(`event: ${frame.event}`);
  for (const line of frame.data.split('\n')) lines.push(`data: ${line}`);
  return `${lines.join('\n')}\n\n`;
}

/** A comment line: keeps proxies and load balancers from closing an idle stream. */
export const SSE_HEARTBEAT = ': heartbeat\n\n';

/**
 * Where a stream resumes: after the seq in Last-Event-ID (header, or `lastEventId` for clients
 * that cannot set headers), else from the start of `since`, else from now. Null when the id is not one
 * of ours.
 */
export function resumePoint(lastEventId: string | undefined): bigint | 'none' | null {
  if (lastEventId === undefined || lastEventId === '') return 'none';
  return /^(0|[1-9][0-9]{0,18})$/.test(lastEventId) ? BigInt(lastEventId) : null;
}
