// SPDX-License-Identifier: MIT
// A list of callbacks. Each add() is its own registration (the same function
// added twice is called twice and removed once per remover). A throwing
// callback is reported and does not stop the others or the client.

export type Listener<T> = (value: T) => void;

export class Listeners<T> {
  readonly #set = new Set<{ listener: Listener<T> }>();

  add(listener: Listener<T>): () => void {
    const registration = { listener };
    this.#set.add(registration);
    return () => {
      this.#set.delete(registration);
    };
  }

  get size(): number {
    return this.#set.size;
  }

  emit(value: T): void {
    for (const { listener } of [...this.#set]) {
      try {
        listener(value);
      } catch (error) {
        console.error('notifierd-client: a listener threw', error);
      }
    }
  }
}
