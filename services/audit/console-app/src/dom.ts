/**
 * Building the page from data without innerHTML: every value lands in a text node or an
 * attribute, so nothing a commit message or an object name contains can become markup.
 */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(
      typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child,
    );
  }
}

export function replace(parent: Element, ...children: (Child | Child[])[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** A link inside the console, handled by the router without a page load. */
export function link(href: string, ...children: Child[]): HTMLAnchorElement {
  return h('a', { href, 'data-route': true }, ...children);
}

/** Relative time for people, the exact time in the title. */
export function time(iso: string | null | undefined): HTMLElement {
  if (!iso) return h('span', {}, '–');
  const t = new Date(iso);
  const seconds = Math.round((Date.now() - t.getTime()) / 1000);
  const ago =
    seconds < 60
      ? `${Math.max(seconds, 0)}s ago`
      : seconds < 3600
        ? `${Math.floor(seconds / 60)}m ago`
        : seconds < 86_400
          ? `${Math.floor(seconds / 3600)}h ago`
          : t.toISOString().slice(0, 10);
  return h('time', { datetime: iso, title: t.toISOString() }, ago);
}

export function shortRevision(revision: string | null | undefined): string {
  if (!revision) return '–';
  return revision.replace(/(sha1|sha256):([0-9a-f]{12})[0-9a-f]+/, '$1:$2');
}

export function badge(text: string, kind: 'ok' | 'bad' | 'unknown' | 'info'): HTMLElement {
  return h('span', { class: `badge badge-${kind}` }, text);
}
