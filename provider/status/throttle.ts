/**
 * At most one message per `intervalMs`, the latest winning: a message offered sooner waits for the interval to end,
 * replacing any message already waiting; a message equal to the last one shown is dropped. The engine's
 * non-interactive output prints a resource's row again for each status, so this is what keeps a CI log short.
 */
export class LatestWins {
  private lastAt = -Infinity;
  private last?: string;
  private waiting?: string;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly deliver: (text: string) => void,
    private readonly intervalMs = 1000,
  ) {}

  offer(text: string): void {
    if (this.timer) {
      this.waiting = text;
      return;
    }
    const wait = this.lastAt + this.intervalMs - Date.now();
    if (wait <= 0) return this.emit(text);
    this.waiting = text;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const next = this.waiting;
      this.waiting = undefined;
      if (next !== undefined) this.emit(next);
    }, wait);
    // A status must never keep the provider process alive.
    this.timer.unref?.();
  }

  /** Shows the waiting message now: the operation is over, and the engine keeps its last status on the row. */
  flush(): void {
    const next = this.waiting;
    this.close();
    if (next !== undefined) this.emit(next);
  }

  /** Drops the waiting message: the operation failed, and the row should show its error rather than a step. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.waiting = undefined;
  }

  private emit(text: string): void {
    if (text === this.last) return;
    this.last = text;
    this.lastAt = Date.now();
    this.deliver(text);
  }
}
