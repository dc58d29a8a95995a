import { expect, test } from '@jupyterlab/galata';

import {
  notebook,
  openRunDialog,
  openRunsPanel,
  putNotebook,
  runRow,
  runRows,
  submitDialog,
  useMLOpsAPI,
  waitForStatus
} from './helpers';

test.describe.configure({ timeout: 180_000 });

/** A notebook whose `seed` parameter defaults to 0 and that prints it. */
const SEED_NOTEBOOK = notebook([
  { source: 'seed = 0\nlr = 0.1', tags: ['parameters'] },
  {
    source:
      'import os\nprint(f"seed={seed} env={os.environ[\'JUPYTER_MLOPS_SEED\']}")'
  }
]);

test.describe('The Seed field', () => {
  useMLOpsAPI();

  test('and the seed parameter are one value, and it reaches the run', async ({
    page,
    tmpPath
  }) => {
    const path = await putNotebook(
      page,
      tmpPath,
      'seeded.ipynb',
      SEED_NOTEBOOK
    );

    // The Seed field starts from the parameter's default: 0 runs as 0.
    let dialog = await openRunDialog(page, path);
    await expect(dialog.locator('#jp-mlops-seed')).toHaveValue('0');
    await submitDialog(page);
    const panel = await openRunsPanel(page);
    const first = runRows(panel, 'seeded.ipynb').first();
    await waitForStatus(first, 'succeeded');
    // `first` is the newest row: keep its id before the next run takes its place
    const firstId = await first.getAttribute('data-run-id');
    expect(firstId).toBeTruthy();
    await first.locator('.jp-mlops-run-open').click();
    let detail = page
      .locator('.jp-mlops-detail[data-status="succeeded"]')
      .last();
    await expect(detail.locator('tr[data-param="seed"] code')).toHaveText('0');
    const frame = page.frameLocator('.jp-mlops-output-frame').last();
    await expect(frame.locator('body')).toContainText('seed=0 env=0', {
      timeout: 30_000
    });

    // Typing a seed in the Execution field changes the parameter with it.
    dialog = await openRunDialog(page, path);
    await dialog.locator('#jp-mlops-seed').fill('1234');
    await expect(dialog.locator('#jp-mlops-param-seed')).toHaveValue('1234');
    await submitDialog(page);
    await openRunsPanel(page); // the file browser took its place
    const newest = runRows(panel, 'seeded.ipynb').first();
    await expect(newest).not.toHaveAttribute('data-run-id', firstId!, {
      timeout: 30_000
    });
    const secondId = await newest.getAttribute('data-run-id');
    const second = runRow(panel, secondId!);
    await waitForStatus(second, 'succeeded');
    await second.locator('.jp-mlops-run-open').click();
    detail = page.locator(`.jp-mlops-detail[data-run-id="${secondId}"]`);
    await expect(detail.locator('tr[data-param="seed"] code')).toHaveText(
      '1234'
    );
    await expect(
      detail.locator('tr[data-param="seed"][data-overridden="true"]')
    ).toBeVisible();
    await expect(
      page
        .frameLocator(
          `.jp-mlops-detail[data-run-id="${secondId}"] .jp-mlops-output-frame`
        )
        .locator('body')
    ).toContainText('seed=1234 env=1234', { timeout: 30_000 });
  });
});
