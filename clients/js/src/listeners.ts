// A set of callbacks. A throwing callback is reported and does not stop
// the others or the client.

export type Listener<T> = (value: T) => void;

export class Listeners<T> {
  readonly #set = new Set<Listener<T>>();

  add(listener: Listener<T>): () => void {
    this.#set.add(listener);
    return () => {
      this.#set.delete(listener);
    };
  }

  get size(): number {
    return this.#set.size;
  }

  emit(value: T): void {
    for (const listener of [...this.#set]) {
      try {
        listener(value);
      } catch (error) {
        console.error('notifier-client: a listener threw', error);
      }
    }
  }
}
