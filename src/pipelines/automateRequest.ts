/**
 * The on-commit trigger of a pipeline file ("Run Pipeline on Each Commit…"):
 * kept apart from the dialog so that it is tested without JupyterLab.
 */
import type { ITriggerRequest } from '../api';
import { ITriggerFormState, parsePaths } from '../triggerForm';

/** The trigger request of a pipeline file and the section's fields. */
export function pipelineTriggerRequest(
  pipeline: string,
  state: ITriggerFormState
): ITriggerRequest {
  const request: ITriggerRequest = {
    pipeline,
    on_commit: state.branch.trim(),
    paths: parsePaths(state.paths),
    policy: state.policy,
    column_psi: 0.2, // the schema's defaults (not used by a commit trigger)
    ks: 0.1,
    for_points: 1,
    active: true,
    parameters: {},
    gpus: 0,
    tags: []
  };
  if (state.name.trim()) {
    request.name = state.name.trim();
  }
  return request;
}
