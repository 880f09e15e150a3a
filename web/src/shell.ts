// What every view shares: periodic refresh and the error banner.

import { describeError } from './api';
import type { WhoAmI } from './api';
import { h, fill } from './dom';

export interface View {
  el: HTMLElement;
  dispose(): void;
}

export interface Ctx {
  who: WhoAmI;
  // Shows (or, with null, clears) the error of one source in the banner.
  report(source: string, error: unknown | null): void;
}

// Runs `task` now and then every `intervalMs` after the previous run ended
// (no overlap); skips runs while the page is hidden.
export class Poller {
  private timer: number | undefined;
  private running = false;
  private stopped = false;
  private again = false;

  constructor(
    private readonly task: () => Promise<void>,
    private intervalMs: number,
  ) {}

  start(): this {
    void this.tick();
    return this;
  }

  setInterval(ms: number): void {
    this.intervalMs = ms;
  }

  // Runs now (or right after the run in progress).
  now(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    window.clearTimeout(this.timer);
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (document.hidden) {
      this.schedule();
      return;
    }
    this.running = true;
    try {
      await this.task();
    } catch (e) {
      // The task reports its own errors; nothing may stop the loop.
      console.error(e);
    } finally {
      this.running = false;
    }
    if (this.again) {
      this.again = false;
      void this.tick();
    } else {
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.stopped || this.intervalMs <= 0) return;
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.tick(), this.intervalMs);
  }
}

// The banner under the header: one line per failing source.
export class ErrorBanner {
  readonly el = h('div', { class: 'banner', role: 'alert', testid: 'error-banner', hidden: true });
  private errors = new Map<string, string>();

  report(source: string, error: unknown | null): void {
    if (error === null || error === undefined) this.errors.delete(source);
    else this.errors.set(source, describeError(error));
    this.render();
  }

  clear(): void {
    this.errors.clear();
    this.render();
  }

  private render(): void {
    this.el.hidden = this.errors.size === 0;
    fill(
      this.el,
      [...this.errors.entries()].map(([source, msg]) =>
        h('div', { class: 'banner-line', testid: 'error-message' }, h('strong', null, `${source}: `), msg),
      ),
    );
  }
}

// "updated 12:00:01" next to a view's title.
export function stamp(): HTMLElement {
  return h('span', { class: 'stamp', testid: 'updated' });
}

export function touch(el: HTMLElement): void {
  el.textContent = `updated ${new Date().toLocaleTimeString()}`;
}
