/**
 * The Run Pipeline form and the side panel's pipeline runs: each step shows
 * its notebook's parameters with the pipeline file's values as defaults (a
 * reference shown, not editable); a bad value stays in the dialog next to
 * its field; a changed value is what the step's run gets; the runs side
 * panel lists the pipeline run with its step progress and opens its DAG.
 */
import { expect, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import {
  openPipelineDialog,
  openRunsPanel,
  putPipeline,
  RUN_TIMEOUT,
  SHOTS,
  useMLOpsAPI
} from './helpers';

test.describe.configure({ timeout: 300_000 });

function stepFields(dialog: Locator, name: string): Locator {
  return dialog.locator(`.jp-mlops-pipeline-step-fields[data-step="${name}"]`);
}

test.describe('pipeline form and side panel', () => {
  useMLOpsAPI();

  test('per-step parameters from the file, an override runs, the side panel lists the run', async ({
    page,
    tmpPath
  }) => {
    await putPipeline(page, tmpPath, 'galata-form');

    const dialog = await openPipelineDialog(page, tmpPath);
    const n = stepFields(dialog, 'prepare').locator('input[data-param="n"]');
    await expect(n).toHaveValue('4'); // the file's value over the notebook's 3
    const report = stepFields(dialog, 'report');
    await expect(
      report.locator('.jp-mlops-pipeline-reference[data-param-row="upstream"]')
    ).toContainText('${steps.prepare.run_id}');
    await expect(report.locator('input[data-param="upstream"]')).toHaveCount(0);

    // A bad value stays in the dialog, next to its field.
    await n.fill('four');
    await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
    await expect(
      stepFields(dialog, 'prepare').locator('.jp-mlops-field-error')
    ).toBeVisible();
    await expect(dialog).toBeVisible();
    await page.screenshot({ path: `${SHOTS}/pipeline-form-error.png` });

    await n.fill('6');
    await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
    await expect(dialog).toHaveCount(0, { timeout: 30_000 });
    const view = page.locator('.jp-mlops-pipeline-body').last();
    await expect(view).toHaveAttribute('data-status', 'succeeded', {
      timeout: 2 * RUN_TIMEOUT
    });

    // The runs side panel lists the pipeline run with its step progress.
    const panel = await openRunsPanel(page);
    const row = panel
      .locator('.jp-mlops-pipeline-run')
      .filter({ hasText: 'galata-form' })
      .first();
    await expect(row).toHaveAttribute('data-status', 'succeeded', {
      timeout: 30_000
    });
    await expect(row.locator('.jp-mlops-pipeline-progress')).toContainText(
      '2/2 steps'
    );
    await page.screenshot({ path: `${SHOTS}/pipeline-side-panel.png` });

    // Closing the DAG view, then opening the row, brings it back.
    await page
      .locator('.lm-TabBar-tab', { hasText: 'Pipeline pl-' })
      .last()
      .locator('.lm-TabBar-tabCloseIcon')
      .click();
    await row.locator('.jp-mlops-pipeline-open').click();
    const reopened = page.locator('.jp-mlops-pipeline-body').last();
    await expect(reopened).toHaveAttribute('data-status', 'succeeded', {
      timeout: 30_000
    });

    // The prepare step's run got the value typed in the form.
    await reopened.locator('.jp-mlops-dag-step[data-step="prepare"]').click();
    const detail = page.locator('.jp-mlops-detail[data-status="succeeded"]');
    await expect(detail).toBeVisible({ timeout: 30_000 });
    await expect(detail.locator('tr[data-param="n"] code')).toHaveText('6');
  });
});
