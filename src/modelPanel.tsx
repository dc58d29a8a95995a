/**
 * A side panel that renders a model: it re-renders on the model's `changed`
 * signal and tells its host when it is shown (to start live updates lazily);
 * and the header every such panel has.
 */
import {
  ReactWidget,
  refreshIcon,
  ToolbarButtonComponent
} from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { ISignal } from '@lumino/signaling';
import * as React from 'react';

/** A panel's header: its title, what `children` add, and a refresh button. */
export function PanelHeader(props: {
  title: string;
  refreshTooltip: string;
  onRefresh: () => void;
  children?: React.ReactNode;
}): JSX.Element {
  return (
    <div className="jp-mlops-panel-header">
      <h2 className="jp-mlops-panel-title">{props.title}</h2>
      {props.children}
      <ToolbarButtonComponent
        icon={refreshIcon}
        tooltip={props.refreshTooltip}
        onClick={props.onRefresh}
        className="jp-mlops-refresh"
      />
    </div>
  );
}

export abstract class ModelPanel<
  M extends { readonly changed: ISignal<M, void> }
> extends ReactWidget {
  constructor(model: M, ...classes: string[]) {
    super();
    this.model = model;
    for (const name of ['jp-mlops-panel', 'jp-mlops-root', ...classes]) {
      this.addClass(name);
    }
    model.changed.connect(this._onChanged, this);
  }

  readonly model: M;

  /** Called whenever the panel becomes visible. */
  onShown: (() => void) | null = null;

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.onShown?.();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.changed.disconnect(this._onChanged, this);
    super.dispose();
  }

  private _onChanged(): void {
    this.update();
  }
}
