/**
 * Pipelines: run a pipeline file from the file browser's context menu, watch
 * its DAG turn green step by step, run it again and see the unchanged step
 * marked as cached (served from the step cache, no kernel), then open a
 * step's run.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import {
  openPipelineDialog,
  putPipeline,
  RUN_TIMEOUT,
  SHOTS,
  useMLOpsAPI
} from './helpers';

test.describe.configure({ timeout: 300_000 });

/** Run the pipeline file from the file browser; the DAG view it opens. */
async function runFromFileBrowser(
  page: IJupyterLabPageFixture,
  dir: string
): Promise<Locator> {
  const dialog = await openPipelineDialog(page, dir);
  await dialog.locator('.jp-mod-accept').click();
  const view = page.locator('.jp-mlops-pipeline-body').last();
  await expect(view).toBeVisible({ timeout: 30_000 });
  return view;
}

function step(view: Locator, name: string): Locator {
  return view.locator(`.jp-mlops-dag-step[data-step="${name}"]`);
}

test.describe('pipelines', () => {
  useMLOpsAPI();

  test('a pipeline runs from the file browser, its DAG turns green, a re-run is cached', async ({
    page,
    tmpPath
  }) => {
    // `report` has `cache: false`: it runs every time, `prepare` is cached.
    await putPipeline(page, tmpPath, 'galata', ['cache: false']);

    const first = await runFromFileBrowser(page, tmpPath);
    await expect(step(first, 'prepare')).toBeVisible();
    await expect(step(first, 'report')).toBeVisible();
    await expect(first).toHaveAttribute('data-status', 'succeeded', {
      timeout: 2 * RUN_TIMEOUT
    });
    for (const name of ['prepare', 'report']) {
      await expect(step(first, name)).toHaveAttribute(
        'data-status',
        'succeeded'
      );
      await expect(step(first, name)).toHaveAttribute('data-cached', 'false');
    }
    await page.screenshot({ path: `${SHOTS}/pipeline-first.png` });

    // Close the first view so the next one is the only DAG on the page.
    await page
      .locator('.lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon')
      .click();

    const again = await runFromFileBrowser(page, tmpPath);
    await expect(again).toHaveAttribute('data-status', 'succeeded', {
      timeout: 2 * RUN_TIMEOUT
    });
    await expect(step(again, 'prepare')).toHaveAttribute('data-cached', 'true');
    await expect(step(again, 'prepare')).toContainText('cached');
    await expect(step(again, 'report')).toHaveAttribute(
      'data-status',
      'succeeded'
    );
    await expect(step(again, 'report')).toHaveAttribute('data-cached', 'false');
    await page.screenshot({ path: `${SHOTS}/pipeline-cached.png` });

    // A step opens the detail of its run (the cached one: the run it came from).
    await step(again, 'prepare').click();
    await expect(
      page.locator('.jp-mlops-detail[data-status="succeeded"]')
    ).toBeVisible({ timeout: 30_000 });
  });
});
