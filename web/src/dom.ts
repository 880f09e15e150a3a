// A small helper to build DOM trees without a framework.

export type Child = Node | string | number | null | undefined | false | Child[];

type Attrs = Record<string, unknown>;

// h('button', {class: 'btn', testid: 'go', onclick: fn}, 'Go')
// `testid` becomes data-testid; on* keys are event listeners; `value`,
// `checked`, `disabled`, `selected` are set as properties; false/null/undefined
// attributes are left out.
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value as EventListener);
    } else if (key === 'testid') {
      el.setAttribute('data-testid', String(value));
    } else if (key === 'value' || key === 'checked' || key === 'disabled' || key === 'selected') {
      (el as unknown as Record<string, unknown>)[key] = value;
    } else if (key === 'style' && typeof value === 'object') {
      Object.assign(el.style, value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else if (c instanceof Node) parent.appendChild(c);
    else parent.appendChild(document.createTextNode(String(c)));
  }
}

// Replaces an element's children.
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

// A horizontal bar of `fraction` (0..1).
export function bar(fraction: number, testid?: string, label?: string): HTMLElement {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  return h(
    'div',
    {
      class: 'bar',
      role: 'meter',
      'aria-valuemin': 0,
      'aria-valuemax': 100,
      'aria-valuenow': Math.round(f * 100),
      'aria-label': label,
      testid,
    },
    h('div', { class: 'bar-fill', style: { width: `${(f * 100).toFixed(1)}%` } }),
  );
}

export function badge(text: string, kind: string, testid?: string): HTMLElement {
  return h('span', { class: `badge badge-${kind}`, testid }, text);
}
