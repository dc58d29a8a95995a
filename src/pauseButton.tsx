/**
 * The Pause / Resume button of a schedule's or a trigger's row: one action at a
 * time through the row's {@link useBusyAction}, a failure naming the row.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type { BusyAction } from './busyAction';

export function PauseButton(props: {
  /** Whether the row is active now (the button pauses it) or paused (resumes). */
  active: boolean;
  /** The row's name, for the failure's message. */
  name: string;
  className: string;
  busy: boolean;
  act: BusyAction;
  setActive: (active: boolean) => Promise<unknown>;
  trans: TranslationBundle;
}): JSX.Element {
  const { active, name, trans } = props;
  return (
    <button
      type="button"
      className={props.className}
      disabled={props.busy}
      onClick={() =>
        void props.act(
          active
            ? trans.__('Could not pause "%1"', name)
            : trans.__('Could not resume "%1"', name),
          async () => {
            await props.setActive(!active);
          }
        )
      }
    >
      {active ? trans.__('Pause') : trans.__('Resume')}
    </button>
  );
}
