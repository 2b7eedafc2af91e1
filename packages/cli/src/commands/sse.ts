/**
 * An incremental Server-Sent Events parser (the WHATWG "event stream interpretation"), pure: the
 * client feeds it whatever text chunks the network delivers and gets back whole events. Chunks
 * may split a line, a CRLF pair or an event anywhere.
 */

export interface SseEvent {
  /** The stream's last event id when this event was dispatched (what to resume from). */
  id: string;
  /** `event:` field; `message` when the server sent none. */
  event: string;
  data: string;
}

export interface SseState {
  /** Text after the last complete line. */
  readonly partial: string;
  /** The previous chunk ended in CR: a LF starting this one belongs to it. */
  readonly afterCr: boolean;
  readonly data: readonly string[] | null;
  readonly event: string;
  readonly lastEventId: string;
}

export interface SseResult {
  state: SseState;
  events: SseEvent[];
  /** The last `retry:` the chunk carried (reconnection delay in ms), if any. */
  retry?: number;
  /** Comment lines seen (heartbeats). */
  comments: number;
}

export function initialSseState(lastEventId = ''): SseState {
  return { partial: '', afterCr: false, data: null, event: '', lastEventId };
}

export function feedSse(state: SseState, chunk: string): SseResult {
  let text = chunk;
  if (state.afterCr && text.startsWith('\n')) text = text.slice(1);
  const afterCr = text.endsWith('\r');
  const lines = (state.partial + text).split(/\r\n|\r|\n/);
  // The last piece is an unfinished line (empty when the chunk ended with a line break).
  const partial = lines.pop() ?? '';
  let data = state.data;
  let event = state.event;
  let lastEventId = state.lastEventId;
  let retry: number | undefined;
  let comments = 0;
  const events: SseEvent[] = [];

  for (const line of lines) {
    if (line === '') {
      // Blank line: dispatch. An event without data lines is dropped, as browsers do.
      if (data !== null) events.push({ id: lastEventId, event: event || 'message', data: data.join('\n') });
      data = null;
      event = '';
      continue;
    }
    if (line.startsWith(':')) {
      comments++;
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        data = [...(data ?? []), value];
        break;
      case 'event':
        event = value;
        break;
      case 'id':
        if (!value.includes('\0')) lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored by the spec
    }
  }
  return {
    state: { partial, afterCr, data, event, lastEventId },
    events,
    ...(retry !== undefined ? { retry } : {}),
    comments,
  };
}
