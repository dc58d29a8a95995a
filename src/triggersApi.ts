/**
 * Typed client of the trigger endpoints (`<baseUrl>/mlops/api/triggers`).
 *
 * The server side is `jupyter_mlops/server/trigger_handlers.py`. Errors are
 * {@link MLOpsAPIError}s, as for the rest of the API.
 */
import { ServerConnection } from '@jupyterlab/services';

import type { ITrigger, ITriggerDetail, ITriggerRequest } from './api';
import { APIClient } from './request';

export class TriggersClient extends APIClient {
  constructor(serverSettings?: ServerConnection.ISettings) {
    super(serverSettings);
  }

  async list(): Promise<ITrigger[]> {
    const page = await this.request<{ triggers: ITrigger[] }>('triggers');
    return page.triggers;
  }

  get(id: string): Promise<ITriggerDetail> {
    return this.request<ITriggerDetail>(this.itemPath('triggers', id));
  }

  create(request: ITriggerRequest): Promise<ITriggerDetail> {
    return this.send<ITriggerDetail>('POST', 'triggers', request);
  }

  setActive(id: string, active: boolean): Promise<ITriggerDetail> {
    return this.send<ITriggerDetail>('PATCH', this.itemPath('triggers', id), {
      active
    });
  }

  async remove(id: string): Promise<void> {
    await this.send<void>('DELETE', this.itemPath('triggers', id));
  }

  /** The trigger and event that fired a run; null for a run no trigger fired. */
  async ofRun(runId: string): Promise<ITriggerDetail | null> {
    try {
      return await this.request<ITriggerDetail>(
        this.itemPath('runs', runId, 'trigger')
      );
    } catch (error) {
      if ((error as { status?: number }).status === 404) {
        return null;
      }
      throw error;
    }
  }
}

/** What a trigger watches, in a few words (the CLI's `describe_trigger`). */
export function describeTrigger(
  trigger: Pick<ITrigger, 'kind' | 'config'>
): string {
  const c = trigger.config as Record<string, unknown>;
  switch (trigger.kind) {
    case 'commit': {
      const paths = Array.isArray(c.paths) && c.paths.length;
      return `each new commit on ${c.branch}${paths ? ` touching ${(c.paths as string[]).join(' ')}` : ''}`;
    }
    case 'data':
      return `a new version of ${c.uri}`;
    case 'drift':
      return `drift of ${c.uri} from ${c.reference}`;
    default:
      return `${c.condition} (${c.for}×) on stream ${c.stream}`;
  }
}
