/**
 * The server's verdict on the cron expression being typed in the Schedule
 * form (`GET cron/preview`: croniter validates it and lists the next fire
 * times in the schedule's time zone).
 *
 * Requests are debounced while the user types; only the answer for the
 * latest expression and zone is kept. When the endpoint cannot be reached
 * the verdict is `unknown` and the form does not block on it: creating the
 * schedule is checked by the server anyway.
 */
import { IDisposable } from '@lumino/disposable';
import { Debouncer } from '@lumino/polling';

import type { ICronPreview } from './api';
import { disposePoll } from './polling';
import { MLOpsAPIError } from './request';

/** Milliseconds of typing pause before the expression is sent. */
export const CRON_CHECK_DELAY_MS = 300;

/** What is known about one expression in one zone. */
export type CronVerdict =
  | { state: 'pending' }
  | { state: 'unknown' }
  | { state: 'valid'; next: string[] }
  | { state: 'invalid'; error: string };

export class CronCheck implements IDisposable {
  constructor(options: CronCheck.IOptions) {
    this._preview = options.preview;
    this._onChange = options.onChange;
    this._debouncer = new Debouncer(
      (key: string, expression: string, timezone: string) =>
        this._fetch(key, expression, timezone),
      options.delay ?? CRON_CHECK_DELAY_MS
    );
  }

  get isDisposed(): boolean {
    return this._debouncer.isDisposed;
  }

  /**
   * The verdict on `expression` in `timezone` ('' for the server's zone);
   * asks the server (debounced) when it is not known yet.
   */
  verdict(expression: string, timezone: string): CronVerdict {
    const key = `${expression.trim()}\n${timezone.trim()}`;
    if (key !== this._key) {
      this._key = key;
      this._verdict = { state: 'pending' };
      if (!this.isDisposed) {
        void this._debouncer.invoke(key, expression.trim(), timezone.trim());
      }
    }
    return this._verdict;
  }

  dispose(): void {
    disposePoll(this._debouncer);
  }

  private async _fetch(
    key: string,
    expression: string,
    timezone: string
  ): Promise<void> {
    let verdict: CronVerdict;
    try {
      const answer = await this._preview(expression, timezone || undefined);
      verdict = answer.valid
        ? { state: 'valid', next: answer.next }
        : { state: 'invalid', error: answer.error };
    } catch (error) {
      // A 400 may carry the same `{valid: false, error}` body.
      const body = error instanceof MLOpsAPIError ? error.body : null;
      const refusal = body as { valid?: unknown; error?: unknown } | null;
      verdict =
        refusal?.valid === false && typeof refusal.error === 'string'
          ? { state: 'invalid', error: refusal.error }
          : { state: 'unknown' };
    }
    if (key === this._key && !this.isDisposed) {
      this._verdict = verdict;
      this._onChange();
    }
  }

  private _preview: CronCheck.IOptions['preview'];
  private _onChange: () => void;
  private _debouncer: Debouncer<void, unknown, [string, string, string]>;
  private _key: string | null = null;
  private _verdict: CronVerdict = { state: 'pending' };
}

export namespace CronCheck {
  export interface IOptions {
    /** `MLOpsClient.cronPreview`. */
    preview: (expression: string, timezone?: string) => Promise<ICronPreview>;
    /** Called when a verdict arrives (the form re-renders). */
    onChange: () => void;
    delay?: number;
  }
}
