/**
 * What every model of ours has: a `changed` signal, whether it loaded once,
 * the last error as text, and disposal. Written once here so the run list,
 * the metrics of a run and the schedules behave alike for their views.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

export abstract class ModelBase implements IDisposable {
  /** Emitted whenever what the views show changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Whether the data was loaded at least once. */
  get loaded(): boolean {
    return this._loaded;
  }

  /** The last error of a request (null after a successful one). */
  get error(): string | null {
    return this._error;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this.onDisposed();
    Signal.clearData(this);
  }

  /** Stop timers and connections (called once, before signals are cleared). */
  protected onDisposed(): void {
    // nothing by default
  }

  protected emitChanged(): void {
    this._changed.emit();
  }

  protected _loaded = false;
  protected _error: string | null = null;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}

/**
 * A refresh that never runs twice at once: called while it runs, it runs once
 * more afterwards (however many calls came meanwhile), and those callers wait
 * for that second run.
 */
export class SerialTask {
  constructor(task: () => Promise<void>) {
    this._task = task;
  }

  run(): Promise<void> {
    if (this._running) {
      this._again ??= this._running.then(() => {
        this._again = null;
        return this.run();
      });
      return this._again;
    }
    this._running = this._task().finally(() => {
      this._running = null;
    });
    return this._running;
  }

  private _task: () => Promise<void>;
  private _running: Promise<void> | null = null;
  private _again: Promise<void> | null = null;
}
