/**
 * Typed client of the pipeline endpoints (`<baseUrl>/mlops/api/pipelines`);
 * the server side is `jupyter_mlops/server/pipeline_handlers.py`.
 */
import { ServerConnection } from '@jupyterlab/services';

import { APIClient, queryString } from '../request';
import type { components } from '../schema';

type Schemas = components['schemas'];

export type IPipelineRequest = Schemas['PipelineRequest'];
export type IPipelineRunSummary = Schemas['PipelineRunSummary'];
export type IPipelineRunDetail = Schemas['PipelineRunDetail'];
export type IPipelineStep = Schemas['PipelineStep'];
export type IPipelineFile = Schemas['PipelineFile'];
export type IPipelineFileStep = Schemas['PipelineFileStep'];

export class PipelinesClient extends APIClient {
  constructor(serverSettings?: ServerConnection.ISettings) {
    super(serverSettings);
  }

  async list(): Promise<IPipelineRunSummary[]> {
    const page = await this.request<{ pipelines: IPipelineRunSummary[] }>(
      'pipelines'
    );
    return page.pipelines;
  }

  /** A pipeline file's steps, notebooks and values (the Run Pipeline form). */
  file(path: string): Promise<IPipelineFile> {
    return this.request<IPipelineFile>(
      `pipelines/file${queryString({ path })}`
    );
  }

  get(id: string): Promise<IPipelineRunDetail> {
    return this.request<IPipelineRunDetail>(this.itemPath('pipelines', id));
  }

  run(request: IPipelineRequest): Promise<IPipelineRunDetail> {
    return this.send<IPipelineRunDetail>('POST', 'pipelines', request);
  }

  resume(id: string): Promise<IPipelineRunDetail> {
    return this.send<IPipelineRunDetail>(
      'POST',
      this.itemPath('pipelines', id, 'resume')
    );
  }
}
