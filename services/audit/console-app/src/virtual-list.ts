import { h } from './dom.js';

/**
 * A list that keeps only the rows in view (plus a margin) in the document, so ten thousand
 * decisions scroll as smoothly as ten, and that asks for the next page (cursor paging) when the
 * reader nears the end of what is loaded. Rows have one fixed height. Arrow keys move between
 * rows; each row says its position (aria-posinset) for screen readers.
 */
export interface VirtualListOptions<T> {
  label: string;
  rowHeight: number;
  renderRow: (item: T, index: number) => HTMLElement;
  /** The next page; null when there is none. */
  loadMore: () => Promise<T[] | null>;
  onSelect?: (item: T, index: number) => void;
}

const OVERSCAN = 8;

export class VirtualList<T> {
  readonly element: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly status: HTMLElement;
  private items: T[] = [];
  private done = false;
  private loading: Promise<void> | null = null;
  private rendered = new Map<number, HTMLElement>();

  constructor(private readonly options: VirtualListOptions<T>) {
    this.spacer = h('div', { class: 'vlist-spacer' });
    this.status = h('p', { class: 'vlist-status', role: 'status', 'aria-live': 'polite' });
    this.element = h(
      'div',
      { class: 'vlist', role: 'list', 'aria-label': options.label, tabindex: 0 },
      this.spacer,
    );
    this.element.addEventListener('scroll', () => this.update(), { passive: true });
    this.element.addEventListener('keydown', (e) => this.onKey(e));
  }

  /** The status line (loaded count, loading, end) to place near the list. */
  get statusElement(): HTMLElement {
    return this.status;
  }

  get length(): number {
    return this.items.length;
  }

  get complete(): boolean {
    return this.done;
  }

  async start(): Promise<void> {
    await this.more();
    this.update();
  }

  private more(): Promise<void> {
    if (this.done) return Promise.resolve();
    this.loading ??= (async () => {
      this.status.textContent = `${this.items.length} loaded, loading more…`;
      try {
        const page = await this.options.loadMore();
        if (page === null) this.done = true;
        else this.items.push(...page);
        if (page !== null && page.length === 0) this.done = true;
      } finally {
        this.loading = null;
        this.status.textContent = `${this.items.length} decision${this.items.length === 1 ? '' : 's'}${this.done ? '' : ' loaded, scroll for more'}`;
        this.spacer.style.height = `${this.items.length * this.options.rowHeight}px`;
        if (this.done)
          for (const row of this.rendered.values())
            row.setAttribute('aria-setsize', String(this.items.length));
      }
    })();
    return this.loading;
  }

  update(): void {
    const { rowHeight } = this.options;
    const top = this.element.scrollTop;
    const height = this.element.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / rowHeight) - OVERSCAN);
    const last = Math.min(this.items.length - 1, Math.ceil((top + height) / rowHeight) + OVERSCAN);
    for (const [index, row] of this.rendered) {
      if (index < first || index > last) {
        row.remove();
        this.rendered.delete(index);
      }
    }
    for (let i = first; i <= last; i++) {
      if (this.rendered.has(i)) continue;
      const item = this.items[i];
      if (item === undefined) continue;
      const row = this.options.renderRow(item, i);
      row.classList.add('vlist-row');
      row.setAttribute('role', 'listitem');
      row.setAttribute('aria-posinset', String(i + 1));
      row.setAttribute('aria-setsize', this.done ? String(this.items.length) : '-1');
      row.dataset['index'] = String(i);
      row.style.transform = `translateY(${i * rowHeight}px)`;
      row.style.height = `${rowHeight}px`;
      if (this.options.onSelect) {
        row.tabIndex = -1;
        row.addEventListener('click', () => this.options.onSelect?.(item, i));
      }
      this.spacer.appendChild(row);
      this.rendered.set(i, row);
    }
    // Near the end of what is loaded: fetch the next page.
    if (!this.done && last >= this.items.length - OVERSCAN * 4) void this.more().then(() => this.update());
  }

  private onKey(e: KeyboardEvent): void {
    const current = Number((document.activeElement as HTMLElement | null)?.dataset['index'] ?? -1);
    let next: number;
    switch (e.key) {
      case 'ArrowDown':
        next = current + 1;
        break;
      case 'ArrowUp':
        next = Math.max(0, current - 1);
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = this.items.length - 1;
        break;
      case 'Enter': {
        const item = this.items[current];
        if (item !== undefined) this.options.onSelect?.(item, current);
        return;
      }
      default:
        return;
    }
    e.preventDefault();
    if (next >= this.items.length) return;
    const { rowHeight } = this.options;
    const top = next * rowHeight;
    if (top < this.element.scrollTop) this.element.scrollTop = top;
    else if (top + rowHeight > this.element.scrollTop + this.element.clientHeight)
      this.element.scrollTop = top + rowHeight - this.element.clientHeight;
    this.update();
    this.rendered.get(next)?.focus();
  }
}
