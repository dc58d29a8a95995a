/**
 * The frontend's timers, all on `@lumino/polling`: a {@link Poll} for each
 * repeated refresh, a `Debouncer` or `Throttler` for each delayed one. These
 * helpers cover the two things every caller needs beyond the library.
 */
import { Poll } from '@lumino/polling';
import * as React from 'react';

/**
 * A poll that calls `factory` every `ms` (constant: no backoff), first one
 * interval after it is started with {@link startLater}; `standby` tells when a
 * tick is skipped (default: while the page is hidden).
 */
export function intervalPoll(
  factory: () => Promise<unknown>,
  ms: number,
  standby: Poll.Standby | (() => boolean | Poll.Standby) = 'when-hidden'
): Poll {
  return new Poll({
    auto: false,
    factory: () => factory(),
    frequency: { interval: ms, backoff: false, max: ms },
    // Skip the very first hidden tick too, like a `document.hidden` check.
    linger: 0,
    standby
  });
}

/** Change a poll's interval (constant, no backoff). */
export function setPollInterval(poll: Poll, ms: number): void {
  poll.frequency = { interval: ms, backoff: false, max: ms };
}

/**
 * Start (or restart) a poll whose first tick comes one interval from now,
 * not at once as `Poll.start()` does.
 */
export function startLater(poll: Poll): Promise<void> {
  return poll.schedule({
    cancel: ({ phase }) =>
      phase !== 'constructed' && phase !== 'standby' && phase !== 'stopped',
    interval: poll.frequency.interval,
    phase: 'started'
  });
}

/** Whether a poll is stopped (or was never started). */
export function isStopped(poll: Poll): boolean {
  const phase = poll.state.phase;
  return phase === 'constructed' || phase === 'stopped' || phase === 'disposed';
}

/**
 * Dispose of a poll, debouncer or throttler and of its pending tick
 * (`dispose` alone leaves the timer to fire into a disposed poll; stopping
 * first clears it).
 */
export function disposePoll(poll: {
  readonly isDisposed: boolean;
  stop(): Promise<void>;
  dispose(): void;
}): void {
  if (!poll.isDisposed) {
    void poll.stop();
    poll.dispose();
  }
}

/** Call `callback` every `ms` while `active` (a React effect on a Poll). */
export function useInterval(
  active: boolean,
  ms: number,
  callback: () => void
): void {
  const latest = React.useRef(callback);
  latest.current = callback;
  React.useEffect(() => {
    if (!active) {
      return;
    }
    const poll = intervalPoll(
      async () => {
        latest.current();
      },
      ms,
      'never'
    );
    void startLater(poll);
    return () => disposePoll(poll);
  }, [active, ms]);
}
