/**
 * A run's notebooks as read-only JupyterLab documents: the executed notebook
 * (outputs included) and the run's code (the notebook as its snapshot commit
 * holds it). They are served by a contents drive of their own, `mlops-run:`,
 * so they open as real notebooks (themed, with JupyterLab's renderers) while
 * nothing is written into the user's files and no kernel is started.
 */
import type { JSONObject } from '@lumino/coreutils';
import { Contents, ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

/** The drive's name: paths look like `mlops-run:<id>/executed/train.ipynb`. */
export const RUN_DRIVE = 'mlops-run';

/** Which notebook of a run. */
export type RunNotebookKind = 'executed' | 'code';

/** The document path of a run's notebook (the file name shows in the tab). */
export function runNotebookPath(
  runId: string,
  kind: RunNotebookKind,
  notebook: string
): string {
  const name = notebook.split('/').pop() || 'notebook.ipynb';
  return `${RUN_DRIVE}:${runId}/${kind}/${name}`;
}

/** The run and kind of a drive-local path, or null for anything else. */
export function parseRunNotebookPath(
  localPath: string
): { runId: string; kind: RunNotebookKind; name: string } | null {
  const match = /^\/?([0-9a-f]{1,32})\/(executed|code)\/([^/]+\.ipynb)$/.exec(
    localPath
  );
  if (!match) {
    return null;
  }
  return {
    runId: match[1],
    kind: match[2] as RunNotebookKind,
    name: match[3]
  };
}

/**
 * The notebook with every cell marked read-only (`editable` and `deletable`
 * false, which JupyterLab honours); the original is not changed.
 */
export function readOnlyNotebook(nb: JSONObject): JSONObject {
  const cells = Array.isArray(nb.cells) ? (nb.cells as JSONObject[]) : [];
  return {
    ...nb,
    cells: cells.map(cell => ({
      ...cell,
      metadata: {
        ...((cell.metadata as JSONObject | undefined) ?? {}),
        editable: false,
        deletable: false
      }
    }))
  };
}

/** Where the drive reads a run's notebooks (the REST client). */
export interface IRunNotebookSource {
  executedNotebook(id: string): Promise<JSONObject>;
  runCode(id: string): Promise<JSONObject>;
  url(...parts: string[]): string;
}

function readOnly(): Promise<never> {
  return Promise.reject(
    new Error('A run notebook is read-only; save a copy with "Save As…".')
  );
}

/** The `mlops-run:` contents drive (read-only). */
export class RunNotebooksDrive implements Contents.IDrive {
  constructor(
    readonly serverSettings: ServerConnection.ISettings,
    private readonly _source: IRunNotebookSource
  ) {}

  readonly name = RUN_DRIVE;

  get fileChanged(): ISignal<this, Contents.IChangedArgs> {
    return this._fileChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    this._isDisposed = true;
    Signal.clearData(this);
  }

  async get(localPath: string): Promise<Contents.IModel> {
    const where = parseRunNotebookPath(localPath);
    if (!where) {
      return {
        name: '',
        path: localPath,
        type: 'directory',
        format: 'json',
        content: [],
        writable: false,
        created: '',
        last_modified: '',
        mimetype: ''
      };
    }
    const nb =
      where.kind === 'executed'
        ? await this._source.executedNotebook(where.runId)
        : await this._source.runCode(where.runId);
    return {
      name: where.name,
      path: localPath,
      type: 'notebook',
      format: 'json',
      content: readOnlyNotebook(nb),
      writable: false,
      created: '',
      last_modified: '',
      mimetype: 'application/x-ipynb+json'
    };
  }

  async getDownloadUrl(localPath: string): Promise<string> {
    const where = parseRunNotebookPath(localPath);
    if (!where) {
      return '';
    }
    return this._source.url(
      'runs',
      where.runId,
      where.kind === 'executed' ? 'notebook' : 'code'
    );
  }

  newUntitled(): Promise<Contents.IModel> {
    return readOnly();
  }
  delete(): Promise<void> {
    return readOnly();
  }
  rename(): Promise<Contents.IModel> {
    return readOnly();
  }
  save(): Promise<Contents.IModel> {
    return readOnly();
  }
  copy(): Promise<Contents.IModel> {
    return readOnly();
  }
  createCheckpoint(): Promise<Contents.ICheckpointModel> {
    return readOnly();
  }
  async listCheckpoints(): Promise<Contents.ICheckpointModel[]> {
    return [];
  }
  restoreCheckpoint(): Promise<void> {
    return readOnly();
  }
  deleteCheckpoint(): Promise<void> {
    return readOnly();
  }

  private _fileChanged = new Signal<this, Contents.IChangedArgs>(this);
  private _isDisposed = false;
}
