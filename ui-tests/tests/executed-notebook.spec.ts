import { expect, test } from '@jupyterlab/galata';

import {
  openRunsPanel,
  putNotebook,
  runRow,
  SHOTS,
  submitByAPI,
  TRAIN_NOTEBOOK,
  useMLOpsAPI,
  waitForStatus
} from './helpers';

test.describe.configure({ timeout: 180_000 });

test.describe('The executed notebook is a notebook', () => {
  useMLOpsAPI();

  test('opens read-only as a JupyterLab notebook, in the dark theme too, with downloads', async ({
    page,
    tmpPath
  }) => {
    const path = await putNotebook(
      page,
      tmpPath,
      'train.ipynb',
      TRAIN_NOTEBOOK
    );
    const run = await submitByAPI(page, {
      notebook: path,
      parameters: { epochs: 5 }
    });
    const panel = await openRunsPanel(page);
    const row = runRow(panel, run.id);
    await waitForStatus(row, 'succeeded');
    await row.locator('.jp-mlops-run-open').click();
    const detail = page.locator(
      `.jp-mlops-detail[data-run-id="${run.id}"][data-status="succeeded"]`
    );
    await expect(detail).toBeVisible({ timeout: 30_000 });

    // Every parameter the run ran with; the given one is marked.
    await expect(
      detail.locator('tr[data-param="epochs"][data-overridden="true"] code')
    ).toHaveText('5');
    await expect(
      detail.locator('tr[data-param="lr"][data-overridden="false"] code')
    ).toHaveText('0.1');

    // Downloads of the .ipynb and the .html.
    const ipynb = detail.locator('a.jp-mlops-download-ipynb');
    const html = detail.locator('a.jp-mlops-download-html');
    await expect(ipynb).toHaveAttribute('href', /artifacts\/output\.ipynb/);
    await expect(html).toHaveAttribute('href', /artifacts\/output\.html/);

    // Open as notebook: a real, read-only notebook panel, no kernel.
    await detail.locator('.jp-mlops-open-executed').click();
    const tab = page.locator('.jp-NotebookPanel.jp-mlops-run-notebook');
    await expect(tab).toBeVisible({ timeout: 30_000 });
    await expect(tab.locator('.jp-Cell').first()).toBeVisible();
    await expect(
      tab.locator('.jp-OutputArea-output', {
        hasText: 'trained baseline: lr=0.1 epochs=5'
      })
    ).toBeVisible();
    // Injected parameters are there, cells are not editable.
    await expect(tab.locator('.jp-Cell')).toContainText(['epochs = 5']);
    const firstEditor = tab.locator('.jp-Cell .cm-content').first();
    await firstEditor.click();
    await page.keyboard.type('zzz');
    await expect(tab).not.toContainText('zzz');
    await expect(
      page.locator('#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current')
    ).toContainText('read-only');
    await page.screenshot({ path: SHOTS + '/executed-notebook-light.png' });

    // The dark theme: the notebook follows, and so does the HTML view.
    await page.theme.setDarkTheme();
    await expect(page.locator('body')).toHaveAttribute(
      'data-jp-theme-light',
      'false'
    );
    await page.screenshot({ path: SHOTS + '/executed-notebook-dark.png' });
    await page
      .locator(`.lm-TabBar-tab[data-id="jupyter-mlops-run-${run.id}"]`)
      .click();
    await expect(detail).toBeVisible();
    const frame = detail.locator('.jp-mlops-output-frame');
    await expect(frame).toHaveAttribute('src', /theme=dark/);
    await page.theme.setLightTheme();
    await expect(frame).not.toHaveAttribute('src', /theme=dark/);

    // "Open this run's code": the snapshot's notebook, read-only too.
    await detail.locator('.jp-mlops-open-code').click();
    const code = page
      .locator('.jp-NotebookPanel.jp-mlops-run-notebook')
      .filter({ hasNotText: 'trained baseline' });
    await expect(code.locator('.jp-Cell').first()).toContainText('lr = 0.1', {
      timeout: 30_000
    });
  });
});
