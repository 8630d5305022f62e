// SPDX-License-Identifier: MIT
// Rendering: plain DOM, text only through textContent (user data is never
// parsed as HTML).

import type { Forum, Post } from './api.js';

export interface ForumActions {
  select(id: number): void;
  rename(id: number, name: string): void;
  remove(id: number): void;
}

export interface PostActions {
  save(post: Post): void;
  remove(id: number): void;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  Object.assign(e, props);
  e.append(...children);
  return e;
}

function button(label: string, className: string, onClick: () => void): HTMLButtonElement {
  const b = el('button', { type: 'button', className, textContent: label });
  b.addEventListener('click', (ev) => {
    ev.stopPropagation();
    onClick();
  });
  return b;
}

/** An inline editor replacing `target` until saved or cancelled. */
function inlineEdit(target: HTMLElement, fields: { name: string; value: string; multiline?: boolean }[],
  onSave: (values: Record<string, string>) => void): void {
  const form = el('form', { className: 'edit' });
  for (const f of fields) {
    const input = f.multiline ? el('textarea', { name: f.name, value: f.value, rows: 3 })
      : el('input', { name: f.name, value: f.value, required: true });
    form.append(input);
  }
  const cancel = el('button', { type: 'button', textContent: 'Cancel' });
  form.append(el('div', { className: 'actions' }, el('button', { type: 'submit', textContent: 'Save' }), cancel));
  const original = [...target.childNodes];
  const restore = () => target.replaceChildren(...original);
  form.addEventListener('click', (ev) => ev.stopPropagation());
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const values: Record<string, string> = {};
    for (const f of fields) values[f.name] = (form.elements.namedItem(f.name) as HTMLInputElement).value;
    restore();
    onSave(values);
  });
  cancel.addEventListener('click', restore);
  target.replaceChildren(form);
  (form.elements[0] as HTMLInputElement).focus();
}

export function renderForums(list: HTMLUListElement, forums: Forum[], selected: number | null, a: ForumActions): void {
  // Keep a row being edited: a live update must not wipe what someone types.
  if (list.querySelector('form.edit')) return;
  list.replaceChildren(...forums.map((f) => {
    const li = el('li', { className: f.id === selected ? 'selected' : '' });
    li.dataset.forumId = String(f.id);
    li.append(
      el('span', { className: 'name', textContent: f.name }),
      button('Rename', 'rename', () => inlineEdit(li, [{ name: 'name', value: f.name }], (v) => a.rename(f.id, v.name!))),
      button('Delete', 'delete', () => a.remove(f.id)),
    );
    li.addEventListener('click', () => a.select(f.id));
    return li;
  }));
}

export function renderPosts(list: HTMLUListElement, posts: Post[], a: PostActions): void {
  if (list.querySelector('form.edit')) return;
  list.replaceChildren(...posts.map((p) => {
    const li = el('li');
    li.dataset.postId = String(p.id);
    li.append(
      el('span', { className: 'title', textContent: p.title }),
      el('span', { className: 'body', textContent: p.body }),
      el('div', { className: 'actions' },
        button('Edit', 'edit', () => inlineEdit(li, [
          { name: 'title', value: p.title },
          { name: 'body', value: p.body, multiline: true },
        ], (v) => a.save({ ...p, title: v.title!, body: v.body! }))),
        button('Delete', 'delete', () => a.remove(p.id))),
    );
    return li;
  }));
}
