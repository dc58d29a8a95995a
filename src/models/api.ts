/**
 * Typed client of the model registry endpoints (`<baseUrl>/mlops/api/models`).
 *
 * The server side is `jupyter_mlops/server/model_handlers.py`; the shapes are
 * the schema's (`schema.d.ts`, generated from `openapi.yaml`).
 */
import { ServerConnection } from '@jupyterlab/services';

import { APIClient } from '../request';
import type { components } from '../schema';

type Schemas = components['schemas'];

/** A registered model with its aliases (`GET models`). */
export type IModelSummary = Schemas['ModelSummary'];
/** One version: its artifact, its run's metrics and parameters. */
export type IModelVersion = Schemas['ModelVersionInfo'];
/** A model with its versions (`GET models/{name}`). */
export type IModelDetail = Schemas['ModelDetail'];
/** One audited change of the registry. */
export type IRegistryEvent = Schemas['RegistryEventInfo'];
/** A promotion: its validation runs and each requirement's verdict. */
export type IPromotion = Schemas['Promotion'];
/** The body of `POST models/{name}/promotions`. */
export type IPromoteRequest = Schemas['PromoteRequest'];
/** The body of `PUT models/{name}/policy`. */
export type IPolicyRequest = Schemas['PolicyRequest'];

/** One requirement's verdict, as the server records it. */
export interface IVerdict {
  requirement: string;
  metric: string;
  candidate: number | null;
  baseline: number | null;
  threshold: number | null;
  holds: boolean;
  message: string;
}

/**
 * The registry endpoints, one method each.
 */
export class ModelsClient extends APIClient {
  constructor(serverSettings?: ServerConnection.ISettings) {
    super(serverSettings);
  }

  async list(): Promise<IModelSummary[]> {
    const page = await this.request<{ models: IModelSummary[] }>('models');
    return page.models;
  }

  get(name: string): Promise<IModelDetail> {
    return this.request<IModelDetail>(this.itemPath('models', name));
  }

  async history(name: string): Promise<IRegistryEvent[]> {
    const page = await this.request<{ events: IRegistryEvent[] }>(
      this.itemPath('models', name, 'history')
    );
    return page.events;
  }

  /** Register a run's model artifact as the model's next version. */
  register(
    runId: string,
    artifact: string,
    name: string
  ): Promise<IModelVersion> {
    return this.send<IModelVersion>('POST', 'models', {
      run_id: runId,
      artifact,
      name
    });
  }

  promote(name: string, request: IPromoteRequest): Promise<IPromotion> {
    return this.send<IPromotion>(
      'POST',
      this.itemPath('models', name, 'promotions'),
      request
    );
  }

  promotion(name: string, id: number): Promise<IPromotion> {
    return this.request<IPromotion>(
      this.itemPath('models', name, 'promotions', String(id))
    );
  }

  setPolicy(name: string, policy: IPolicyRequest): Promise<IModelSummary> {
    return this.request<IModelSummary>(
      this.itemPath('models', name, 'policy'),
      {
        method: 'PUT',
        body: JSON.stringify(policy)
      }
    );
  }

  async remove(name: string, version?: number): Promise<void> {
    const path =
      version === undefined
        ? this.itemPath('models', name)
        : this.itemPath('models', name, 'versions', String(version));
    await this.send<void>('DELETE', path);
  }
}
