/**
 * A row's buttons (pause, resume, delete, run now) run one action at a time:
 * they are disabled while it runs, and a failure is a notification naming it.
 */
import { Notification } from '@jupyterlab/apputils';
import * as React from 'react';

import { errorMessage } from './request';

export type BusyAction = (
  failure: string,
  action: () => Promise<void>
) => Promise<void>;

/** `[busy, act]`: `act(failure, action)` runs `action`, `busy` while it does. */
export function useBusyAction(): [boolean, BusyAction] {
  const [busy, setBusy] = React.useState(false);
  const act: BusyAction = async (failure, action) => {
    setBusy(true);
    try {
      await action();
    } catch (error) {
      Notification.error(`${failure}: ${errorMessage(error)}`, {
        autoClose: 10000
      });
    } finally {
      setBusy(false);
    }
  };
  return [busy, act];
}
