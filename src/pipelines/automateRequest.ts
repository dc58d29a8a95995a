/**
 * The on-commit trigger of a pipeline file ("Run Pipeline on Each Commit…"):
 * kept apart from the dialog so that it is tested without JupyterLab.
 */
import type { ITriggerRequest } from '../api';
import { commitTriggerRequest, ITriggerFormState } from '../triggerForm';

/** The trigger request of a pipeline file and the section's fields. */
export function pipelineTriggerRequest(
  pipeline: string,
  state: ITriggerFormState
): ITriggerRequest {
  return commitTriggerRequest(state, { pipeline });
}
