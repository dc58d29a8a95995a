/**
 * The model registry: register a model artifact from the run detail, store a
 * promotion policy and promote from the Models panel (the server runs the
 * validation notebook), see the alias move and the history.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import {
  notebook,
  openRunsPanel,
  openSidePanel,
  putNotebook,
  RUN_TIMEOUT,
  runRow,
  SHOTS,
  submitByAPI,
  useMLOpsAPI
} from './helpers';

test.describe.configure({ timeout: 360_000 });

/** Logs a tiny torch model whose weights are all `quality` (lower is better). */
const TRAIN = notebook([
  { source: 'quality = 1.0', tags: ['parameters'] },
  {
    source: [
      'import torch',
      'import jupyter_mlops as mlops',
      'net = torch.nn.Linear(4, 2)',
      'with torch.no_grad():',
      '    net.weight.fill_(quality)',
      'mlops.log_model(net, "regressor")'
    ].join('\n')
  }
]);

/** Measures a registered model: `eval/loss` is its mean absolute weight. */
const VALIDATE = notebook([
  { source: 'model_uri = ""', tags: ['parameters'] },
  {
    source: [
      'import jupyter_mlops as mlops',
      'state = mlops.load_model(model_uri)',
      'mlops.log_metric("eval/loss", float(state["weight"].abs().mean()))'
    ].join('\n')
  }
]);

async function finished(
  page: IJupyterLabPageFixture,
  id: string
): Promise<void> {
  await expect
    .poll(
      async () =>
        (await (await page.request.get(`/mlops/api/runs/${id}`)).json()).status,
      { timeout: RUN_TIMEOUT }
    )
    .toBe('succeeded');
}

/**
 * Answer the InputDialog asking for `label` with `value`, and wait until that
 * dialog is gone (the next question of the same action may open at once).
 */
async function answer(
  page: IJupyterLabPageFixture,
  label: string,
  value: string
) {
  const dialog = page.locator('.jp-Dialog').filter({ hasText: label });
  await expect(dialog).toBeVisible();
  await dialog.locator('input').fill(value);
  await dialog.locator('.jp-mod-accept').click();
  await expect(dialog).toHaveCount(0);
}

function versionRow(page: Locator, version: number): Locator {
  return page.locator(`tr[data-version="${version}"]`);
}

test.describe('model registry', () => {
  useMLOpsAPI();

  test('register from a run, promote with a policy, see the alias move and the history', async ({
    page,
    tmpPath
  }) => {
    const name = `churn-${Date.now()}`;
    const train = await putNotebook(page, tmpPath, 'train.ipynb', TRAIN);
    const validate = await putNotebook(page, tmpPath, 'eval.ipynb', VALIDATE);
    const first = await submitByAPI(page, {
      notebook: train,
      parameters: { quality: 1.0 }
    });
    const second = await submitByAPI(page, {
      notebook: train,
      parameters: { quality: 0.5 }
    });
    await finished(page, first.id);
    await finished(page, second.id);

    // Register the first run's model from its detail.
    const runs = await openRunsPanel(page);
    const row = runRow(runs, first.id);
    await expect(row).toBeVisible({ timeout: 30_000 });
    await row.locator('.jp-mlops-run-open').click();
    const detail = page.locator(`.jp-mlops-detail[data-run-id="${first.id}"]`);
    await detail.locator('.jp-mlops-register-artifact').click();
    await answer(page, 'Model name', name);
    await expect
      .poll(async () =>
        (await page.request.get(`/mlops/api/models/${name}`)).status()
      )
      .toBe(200);
    const registered = await page.request.post('/mlops/api/models', {
      data: { run_id: second.id, artifact: 'regressor', name }
    });
    expect(registered.status()).toBe(201);

    // The model's page: a policy, then promotions that apply it.
    const panel = await openSidePanel(page, 'jupyter-mlops-models');
    await panel.locator('.jp-mlops-refresh').click();
    await panel.locator(`li[data-model="${name}"] a`).click();
    const model = panel.locator(`.jp-mlops-model-page[data-model="${name}"]`);
    await expect(versionRow(model, 2)).toBeVisible();
    await model.locator('.jp-mlops-set-policy').click();
    await answer(page, 'Validation notebook', validate);
    await answer(page, 'Requirements', 'eval/loss <= baseline');
    await expect(model.locator('.jp-mlops-policy')).toContainText(
      'eval/loss <= baseline'
    );

    await versionRow(model, 1).locator('.jp-mlops-promote').click();
    await answer(page, 'Alias', 'production');
    await expect(model.locator('.jp-mlops-promotion-promoted')).toBeVisible({
      timeout: 180_000
    });
    await expect(
      versionRow(model, 1).locator('.jp-mlops-version-aliases')
    ).toHaveText('@production');

    await versionRow(model, 2).locator('.jp-mlops-promote').click();
    await answer(page, 'Alias', 'production');
    const promotion = model.locator('.jp-mlops-promotion');
    await expect(promotion).toContainText('baseline validation run');
    await expect(model.locator('.jp-mlops-promotion-promoted')).toBeVisible({
      timeout: 180_000
    });
    await expect(promotion.locator('.jp-mlops-holds')).toHaveCount(1);
    await expect(
      versionRow(model, 2).locator('.jp-mlops-version-aliases')
    ).toHaveText('@production');
    await expect(
      versionRow(model, 1).locator('.jp-mlops-version-aliases')
    ).toHaveText('');

    const history = model.locator('.jp-mlops-history li');
    await expect(history.first()).toContainText(
      'alias_set v2 @production (was v1)'
    );
    await expect(
      model.locator('.jp-mlops-history li[data-action="alias_set"]')
    ).toHaveCount(2);
    await expect(
      model.locator('.jp-mlops-history li[data-action="register"]')
    ).toHaveCount(2);
    await page.screenshot({ path: `${SHOTS}/registry-model-page.png` });

    await page.request.delete(`/mlops/api/models/${name}`);
  });
});
