/**
 * "Run finished" notifications, with an "Open run" button, whether or not
 * the side panel is open: this lives beside the run history model (not in a
 * view), listens to its changes and decides with {@link FinishWatch}. The
 * runs submitted from this browser are remembered in its local storage, so a
 * reload still announces them.
 */
import { Notification } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';

import type { IRunSummary } from './api';
import {
  DEFAULT_NOTIFY_SETTINGS,
  finishNotice,
  FinishWatch,
  INotifySettings
} from './finishNotices';
import type { RunsModel } from './model';

/** Local storage key of the ids of runs submitted from this browser. */
const MINE_KEY = 'jupyter-mlops:submitted-runs';

/** Milliseconds a success stays; failures stay until dismissed. */
const SUCCESS_MS = 15000;

function loadMine(): string[] {
  try {
    const stored = JSON.parse(window.localStorage.getItem(MINE_KEY) ?? '[]');
    return Array.isArray(stored)
      ? stored.filter(id => typeof id === 'string')
      : [];
  } catch {
    return [];
  }
}

export class RunNotifier {
  constructor(options: {
    model: RunsModel;
    trans: TranslationBundle;
    openRun: (id: string) => void;
  }) {
    this._model = options.model;
    this._trans = options.trans;
    this._openRun = options.openRun;
    this._watch = new FinishWatch(loadMine());
    this._model.runChanged.connect((_, change) => {
      if (change.run === null) {
        this._watch.forget(change.id);
      } else if (this._watch.observe(change.run, this._settings)) {
        this._notify(change.run);
      }
    }, this);
  }

  get settings(): INotifySettings {
    return this._settings;
  }

  /** New settings; with notifications on, the model starts (live updates). */
  set settings(value: INotifySettings) {
    this._settings = value;
    if (value.enabled && (value.scope === 'all' || this._watch.mine.length)) {
      this._model.ensureStarted();
    }
  }

  /** A run was submitted from this browser. */
  submitted(run: IRunSummary): void {
    this._watch.addMine(run.id);
    try {
      window.localStorage.setItem(MINE_KEY, JSON.stringify(this._watch.mine));
    } catch {
      // storage full or refused: announced in this page only
    }
  }

  private _notify(run: IRunSummary): void {
    const notice = finishNotice(run, this._trans);
    Notification.emit(notice.message, notice.type, {
      autoClose: notice.type === 'success' ? SUCCESS_MS : false,
      actions: [
        {
          label: this._trans.__('Open run'),
          caption: this._trans.__('Open the detail of run %1', run.id),
          callback: () => this._openRun(run.id)
        }
      ]
    });
  }

  private _model: RunsModel;
  private _trans: TranslationBundle;
  private _openRun: (id: string) => void;
  private _watch: FinishWatch;
  private _settings: INotifySettings = { ...DEFAULT_NOTIFY_SETTINGS };
}
