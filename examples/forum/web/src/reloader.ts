// SPDX-License-Identifier: MIT
// Coalesced re-fetching: one load at a time, and changes announced during a
// load cause exactly one more, so the page always ends on fresh data.

export class Reloader {
  #running = false;
  #again = false;

  constructor(private readonly load: () => Promise<void>, private readonly onError: (e: unknown) => void) {}

  request(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    void this.#run();
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      do {
        this.#again = false;
        try {
          await this.load();
        } catch (e) {
          this.onError(e);
        }
      } while (this.#again);
    } finally {
      this.#running = false;
    }
  }
}
