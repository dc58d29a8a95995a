import { expect, test } from '@jupyterlab/galata';

import {
  FAILING_NOTEBOOK,
  notebook,
  openRunDialog,
  openRunsPanel,
  putNotebook,
  RUN_TIMEOUT,
  SHOTS,
  submitDialog,
  useMLOpsAPI
} from './helpers';

test.describe.configure({ timeout: 180_000 });

/** A run of a few seconds that prints one line at the end. */
const SHORT_NOTEBOOK = notebook([
  { source: 'seconds = 3', tags: ['parameters'] },
  { source: 'import time\ntime.sleep(seconds)\nprint("all done")' }
]);

test.describe('Finish notifications', () => {
  useMLOpsAPI();

  test('a run submitted here is announced when it succeeds, with the side panel closed; Open run opens it', async ({
    page,
    tmpPath
  }) => {
    const path = await putNotebook(
      page,
      tmpPath,
      'notify.ipynb',
      SHORT_NOTEBOOK
    );
    await openRunDialog(page, path);
    await submitDialog(page);

    // The notification must not depend on the panel: open it, close it again.
    const panel = await openRunsPanel(page);
    await page.sidebar.close('left');
    await expect(panel).toBeHidden();

    const toast = page
      .locator('.Toastify__toast')
      .filter({ hasText: /notify\.ipynb · [0-9a-f]+ succeeded/ });
    await expect(toast).toBeVisible({ timeout: RUN_TIMEOUT });
    await toast.screenshot({ path: SHOTS + '/notification-succeeded.png' });
    await toast.getByRole('button', { name: 'Open run' }).click();

    const detail = page.locator('.jp-mlops-detail[data-status="succeeded"]');
    await expect(detail).toBeVisible({ timeout: 30_000 });
    await expect(detail.locator('h2')).toHaveText('notify.ipynb');
    await expect(detail.locator('.jp-mlops-live-output')).toContainText(
      'all done'
    );
  });

  test('a failed run is announced with its error line', async ({
    page,
    tmpPath
  }) => {
    const path = await putNotebook(
      page,
      tmpPath,
      'notify-fails.ipynb',
      FAILING_NOTEBOOK
    );
    await openRunDialog(page, path);
    await submitDialog(page);

    const toast = page
      .locator('.Toastify__toast')
      .filter({ hasText: /notify-fails\.ipynb · [0-9a-f]+ failed/ });
    await expect(toast).toBeVisible({ timeout: RUN_TIMEOUT });
    await expect(toast).toContainText('loss diverged above threshold 1');
    await toast.getByRole('button', { name: 'Open run' }).click();
    const detail = page.locator('.jp-mlops-detail[data-status="failed"]');
    await expect(detail).toBeVisible({ timeout: 30_000 });
    await expect(detail.locator('.jp-mlops-live-output')).toContainText(
      'ValueError'
    );
  });
});
