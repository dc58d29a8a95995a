/**
 * Reload a view a little after one of its runs changed: the run detail and
 * Compare listen to the run list's `runChanged`, and a burst of events
 * (cell progress) makes one reload.
 */
import { IDisposable } from '@lumino/disposable';
import { Debouncer } from '@lumino/polling';

import type { IRunChange, RunsModel } from './model';
import { disposePoll } from './polling';

export class RunWatcher implements IDisposable {
  constructor(options: RunWatcher.IOptions) {
    this._options = options;
    this._reload = new Debouncer(() => options.reload(), options.delay);
    options.model.runChanged.connect(this._onRunChanged, this);
  }

  get isDisposed(): boolean {
    return this._reload.isDisposed;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._options.model.runChanged.disconnect(this._onRunChanged, this);
    disposePoll(this._reload);
  }

  private _onRunChanged(_: RunsModel, change: IRunChange): void {
    if (!this._options.ids().includes(change.id)) {
      return;
    }
    if (this._options.onChange?.(change) === false) {
      return;
    }
    void this._reload.invoke();
  }

  private _options: RunWatcher.IOptions;
  private _reload: Debouncer;
}

export namespace RunWatcher {
  export interface IOptions {
    model: RunsModel;
    /** The runs the view shows. */
    ids: () => ReadonlyArray<string>;
    /** Milliseconds of quiet before the reload. */
    delay: number;
    reload: () => Promise<void>;
    /** Handle the change at once; false: no reload. */
    onChange?: (change: IRunChange) => boolean | void;
  }
}
