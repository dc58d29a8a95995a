import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import {
  FAILING_NOTEBOOK,
  rejectDialog,
  runDialog,
  openRunDialog,
  openRunsPanel,
  putNotebook,
  RUN_TIMEOUT,
  runRow,
  runRows,
  SHOTS,
  SLOW_NOTEBOOK,
  submitByAPI,
  submitDialog,
  TRAIN_NOTEBOOK,
  useMLOpsAPI,
  waitForRuns,
  waitForStatus
} from './helpers';

test.describe.configure({ timeout: 180_000 });

/** Upload the parameterised training notebook as `train.ipynb`. */
function putTrainNotebook(
  page: IJupyterLabPageFixture,
  tmpPath: string
): Promise<string> {
  return putNotebook(page, tmpPath, 'train.ipynb', TRAIN_NOTEBOOK);
}

/** Upload the training notebook, open it and its Run as job dialog. */
async function openTrainDialog(
  page: IJupyterLabPageFixture,
  tmpPath: string
): Promise<Locator> {
  return openRunDialog(page, await putTrainNotebook(page, tmpPath));
}

test.describe('Run as job', () => {
  useMLOpsAPI();

  test('submit with a changed parameter, watch it succeed, see the value in the executed notebook', async ({
    page,
    tmpPath
  }) => {
    const dialog = await openTrainDialog(page, tmpPath);

    // One typed input per parameter, prefilled with its default.
    await expect(dialog.locator('#jp-mlops-param-lr')).toHaveValue('0.1');
    await expect(dialog.locator('#jp-mlops-param-epochs')).toHaveValue('3');
    await expect(dialog.locator('#jp-mlops-param-name')).toHaveValue(
      'baseline'
    );
    await expect(dialog.locator('#jp-mlops-param-shuffle')).toBeChecked();
    await expect(dialog.locator('#jp-mlops-param-layers')).toHaveValue(
      '[32,16]'
    );
    await expect(dialog.locator('#jp-mlops-kernel')).toHaveValue('python3');

    // Inline validation before submit: bad values disable Run.
    const accept = dialog.locator('.jp-Dialog-button.jp-mod-accept');
    await dialog.locator('#jp-mlops-param-epochs').fill('three');
    await dialog.locator('#jp-mlops-param-layers').fill('[32, 16');
    await expect(
      dialog.locator('[data-param-row="epochs"] .jp-mlops-field-error')
    ).toContainText('integer');
    await expect(
      dialog.locator('[data-param-row="layers"] .jp-mlops-field-error')
    ).toContainText('JSON');
    await expect(accept).toBeDisabled();
    await dialog
      .locator('.jp-Dialog-content')
      .screenshot({ path: SHOTS + '/run-as-job-dialog-invalid.png' });

    await dialog.locator('#jp-mlops-param-epochs').fill('7');
    await dialog.locator('#jp-mlops-param-layers').fill('[64, 32, 8]');
    await dialog.locator('#jp-mlops-tags').fill('ui-test, sweep');
    await expect(dialog.locator('.jp-mlops-field-error')).toHaveCount(0);
    await expect(accept).toBeEnabled();
    await dialog
      .locator('.jp-Dialog-content')
      .screenshot({ path: SHOTS + '/run-as-job-dialog.png' });

    await submitDialog(page);

    // A notification offers to show the run.
    const toast = page
      .locator('.Toastify__toast')
      .filter({ hasText: 'train.ipynb' });
    await expect(toast).toBeVisible();
    await expect(toast.getByRole('button', { name: 'Show run' })).toBeVisible();

    // The run appears in the side panel and reaches succeeded.
    const panel = await openRunsPanel(page);
    const row = runRows(panel, 'train.ipynb').first();
    await expect(row).toBeVisible({ timeout: 30_000 });
    await expect(row.locator('.jp-mlops-params')).toContainText('epochs=7');
    await expect(
      row.locator('.jp-mlops-tag', { hasText: 'sweep' })
    ).toBeVisible();
    await waitForStatus(row, 'succeeded');
    await expect(row.locator('.jp-mlops-badge')).toHaveText('succeeded');
    await expect(row.locator('.jp-mlops-duration')).toHaveText(/\d/);
    await panel.screenshot({ path: SHOTS + '/runs-panel.png' });

    // Its detail: parameters, timeline, artifacts, and the executed notebook.
    await row.locator('.jp-mlops-run-open').click();
    const detail = page.locator('.jp-mlops-detail[data-status="succeeded"]');
    await expect(detail).toBeVisible({ timeout: 30_000 });
    await expect(detail.locator('tr[data-param="epochs"] code')).toHaveText(
      '7'
    );
    await expect(detail.locator('tr[data-param="layers"] code')).toHaveText(
      '[64,32,8]'
    );
    await expect(detail.locator('.jp-mlops-timeline li')).not.toHaveCount(0);
    await expect(detail.locator('.jp-mlops-artifacts a').first()).toBeVisible();
    const frame = page.frameLocator('.jp-mlops-output-frame');
    await expect(frame.locator('body')).toContainText('epochs = 7', {
      timeout: 30_000
    });
    await expect(frame.locator('body')).toContainText(
      'trained baseline: lr=0.1 epochs=7 layers=[64, 32, 8]'
    );
    await page.screenshot({ path: SHOTS + '/run-detail.png' });
    await detail.locator('.jp-mlops-output').scrollIntoViewIfNeeded();
    await page.waitForTimeout(1000); // let the out-of-process iframe paint
    await page.screenshot({ path: SHOTS + '/run-detail-notebook.png' });

    // Reproduce: a new run with the same parameters opens and succeeds too.
    const firstId = await detail.getAttribute('data-run-id');
    await detail.locator('.jp-mlops-reproduce').click();
    const copy = page.locator(
      `.jp-mlops-detail:not([data-run-id="${firstId}"])`
    );
    await expect(copy).toBeVisible({ timeout: 30_000 });
    await expect(copy.getByRole('button', { name: firstId! })).toBeVisible();
    await expect(copy.locator('tr[data-param="epochs"] code')).toHaveText('7');
    await waitForStatus(copy, 'succeeded');
  });

  test('a failing notebook shows its error cell and traceback', async ({
    page,
    tmpPath
  }) => {
    await putNotebook(page, tmpPath, 'broken.ipynb', FAILING_NOTEBOOK);
    // From the file browser's context menu, without opening the notebook.
    await page.filebrowser.openDirectory(tmpPath);
    await page
      .locator('.jp-DirListing-item[data-file-type="notebook"]', {
        hasText: 'broken.ipynb'
      })
      .click({ button: 'right' });
    await page.locator('.lm-Menu-item', { hasText: 'Run as Job…' }).click();
    const dialog = runDialog(page);
    await expect(dialog.locator('#jp-mlops-param-threshold')).toHaveValue('1');
    await dialog.locator('#jp-mlops-param-threshold').fill('42');
    await submitDialog(page);

    const panel = await openRunsPanel(page);
    const row = runRows(panel, 'broken.ipynb').first();
    await waitForStatus(row, 'failed');
    await expect(row.locator('.jp-mlops-badge')).toHaveText('failed');

    await row.locator('.jp-mlops-run-open').click();
    const detail = page.locator('.jp-mlops-detail[data-status="failed"]');
    await expect(detail).toBeVisible({ timeout: 30_000 });
    const error = detail.locator('.jp-mlops-error-section');
    await expect(error.locator('.jp-mlops-error-summary')).toContainText(
      'ValueError'
    );
    await expect(error.locator('.jp-mlops-error-summary')).toContainText(
      'loss diverged above threshold 42'
    );
    await expect(error.locator('.jp-mlops-traceback')).toContainText(
      'ValueError'
    );
    await page.screenshot({ path: SHOTS + '/run-failed.png' });
  });

  test('the server refuses an impossible GPU request: the dialog stays open and shows why', async ({
    page,
    tmpPath
  }) => {
    const dialog = await openTrainDialog(page, tmpPath);
    // What the kernel's torch says about CUDA, probed on the server.
    const cudaHelp = dialog.locator('[data-kernel-cuda]');
    await expect(cudaHelp).toContainText('PyTorch');
    const cuda = await cudaHelp.getAttribute('data-kernel-cuda');
    expect(['cuda', 'none']).toContain(cuda);
    const warning = dialog.locator('.jp-mlops-field-warning');
    await expect(warning).toHaveCount(0);
    // A GPU request this machine cannot serve (CI has no GPU).
    await dialog.locator('#jp-mlops-gpus').fill('64');
    // A CPU-only kernel is pointed out before the request is even sent.
    await expect(warning).toHaveCount(cuda === 'none' ? 1 : 0);
    await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
    await expect(dialog.locator('.jp-mlops-form-error')).toBeVisible({
      timeout: 30_000
    });
    await expect(dialog).toBeVisible();
    await dialog
      .locator('.jp-Dialog-content')
      .screenshot({ path: SHOTS + '/run-as-job-server-error.png' });
    await rejectDialog(dialog);
  });

  test('cancel a long run from its detail', async ({ page, tmpPath }) => {
    const path = await putNotebook(page, tmpPath, 'slow.ipynb', SLOW_NOTEBOOK);
    const run = await submitByAPI(page, { notebook: path });

    const panel = await openRunsPanel(page);
    const row = runRow(panel, run.id);
    await waitForStatus(row, 'running');
    await expect(row.locator('.jp-mlops-elapsed')).toBeVisible();

    await row.locator('.jp-mlops-run-open').click();
    const detail = page.locator(`.jp-mlops-detail[data-run-id="${run.id}"]`);
    await detail.locator('.jp-mlops-cancel').click();
    await waitForStatus(row, 'cancelled', 60_000);
    await expect(detail).toHaveAttribute('data-status', 'cancelled', {
      timeout: 30_000
    });
    await expect(detail.locator('.jp-mlops-cancel')).toHaveCount(0);

    // Delete: confirm, the row and the detail go away.
    await detail.locator('.jp-mlops-delete').click();
    await page
      .locator('.jp-Dialog')
      .filter({ hasText: 'Delete run?' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await expect(row).toHaveCount(0, { timeout: 30_000 });
    await expect(detail).toHaveCount(0);
  });

  test('unsaved changes: save first, the job runs what is on disk', async ({
    page,
    tmpPath
  }) => {
    const path = await putTrainNotebook(page, tmpPath);
    await page.notebook.openByPath(path);
    await page.notebook.addCell('code', 'extra = 1');
    await page
      .locator('.jp-NotebookPanel-toolbar .jp-mlops-toolbar-run')
      .first()
      .click();
    const prompt = page
      .locator('.jp-Dialog')
      .filter({ hasText: 'Save before running?' });
    await expect(prompt).toBeVisible();
    await prompt.getByRole('button', { name: 'Save and run' }).click();
    const dialog = runDialog(page);
    await expect(dialog.locator('#jp-mlops-param-lr')).toHaveValue('0.1');
    const saved = await page.request.get(`/api/contents/${path}?content=1`);
    const model = (await saved.json()) as { content: { cells: unknown[] } };
    expect(model.content.cells).toHaveLength(4);
    await rejectDialog(dialog);
  });

  test('compare two runs: parameters side by side, differences highlighted', async ({
    page,
    tmpPath
  }) => {
    const path = await putTrainNotebook(page, tmpPath);
    const a = await submitByAPI(page, {
      notebook: path,
      parameters: { lr: 0.5 },
      tags: ['a'],
      seed: 1
    });
    // the second run executes edited code: the compare view must show the change
    await putNotebook(
      page,
      tmpPath,
      'train.ipynb',
      TRAIN_NOTEBOOK.replace('score = lr * epochs', 'score = lr * epochs * 2')
    );
    const b = await submitByAPI(page, {
      notebook: path,
      parameters: { lr: 0.01, epochs: 4 },
      tags: ['b'],
      seed: 1
    });

    const panel = await openRunsPanel(page);
    const compare = panel.locator('.jp-mlops-compare');
    await expect(compare).toBeDisabled();
    for (const run of [a, b]) {
      const row = runRow(panel, run.id);
      await expect(row).toBeVisible({ timeout: 30_000 });
      await row.locator('.jp-mlops-run-select').check();
    }
    await expect(compare).toBeEnabled();
    await compare.click();

    const table = page.locator('.jp-mlops-compare-table');
    await expect(table).toBeVisible();
    const lr = table.locator('tr[data-row="param:lr"]');
    await expect(lr).toHaveClass(/jp-mlops-diff/);
    await expect(lr.locator('td')).toHaveText(['0.5', '0.01']);
    const epochs = table.locator('tr[data-row="param:epochs"]');
    await expect(epochs).toHaveClass(/jp-mlops-diff/);
    // run a left epochs at the notebook's default: its value, marked as such
    await expect(epochs.locator('td')).toHaveText(['3', '4']);
    await expect(epochs.locator('td').first()).toHaveClass(/jp-mlops-default/);
    await expect(epochs.locator('td').last()).not.toHaveClass(
      /jp-mlops-default/
    );
    const seed = table.locator('tr[data-row="seed"]');
    await expect(seed).not.toHaveClass(/jp-mlops-diff/);
    const code = page.locator(`.jp-mlops-code-diff[data-run-id="${b.id}"]`);
    await expect(code.locator('.jp-mlops-notebook-diff')).toContainText(
      '+score = lr * epochs * 2'
    );
    await expect(code.locator('.jp-mlops-diff-files')).toContainText(
      'train.ipynb'
    );
    await page.screenshot({ path: SHOTS + '/compare.png' });
    await page.theme.setDarkTheme();
    await page.screenshot({ path: SHOTS + '/compare-dark.png' });
    await page.theme.setLightTheme();

    // Let both runs finish before the test's directory is removed.
    await waitForRuns(panel, [a.id, b.id], /succeeded|failed/, RUN_TIMEOUT);
  });
});
