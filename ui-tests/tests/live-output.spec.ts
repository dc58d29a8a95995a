import { expect, galata, test } from '@jupyterlab/galata';

import {
  notebook,
  openRunsPanel,
  putNotebook,
  runRow,
  SHOTS,
  submitByAPI,
  useMLOpsAPI,
  waitForStatus
} from './helpers';

test.describe.configure({ timeout: 180_000 });

test.use({
  mockSettings: {
    ...galata.DEFAULT_SETTINGS,
    'jupyter-mlops:plugin': { refreshInterval: 2 }
  }
});

/**
 * A finished first cell, then a cell that prints a numbered line every half
 * second for a minute (the test cancels it once it has seen enough).
 */
const PRINTING_NOTEBOOK = notebook([
  { source: 'lines = 120', tags: ['parameters'] },
  { source: 'print("setup finished")' },
  {
    source: [
      'import sys',
      'import time',
      '',
      'for i in range(1, lines + 1):',
      '    print(f"line {i}", flush=True)',
      '    if i == 2:',
      '        print("a warning on stderr", file=sys.stderr, flush=True)',
      '    time.sleep(0.5)'
    ].join('\n')
  }
]);

test.describe('Live output', () => {
  useMLOpsAPI();

  test('the detail shows what the cells print while the run goes', async ({
    page,
    tmpPath
  }) => {
    const nb = await putNotebook(
      page,
      tmpPath,
      'printing.ipynb',
      PRINTING_NOTEBOOK
    );
    const run = await submitByAPI(page, { notebook: nb });
    const panel = await openRunsPanel(page);
    const row = runRow(panel, run.id);
    await expect(row).toBeVisible({ timeout: 30_000 });
    await row.locator('.jp-mlops-run-open').click();

    const detail = page.locator(`.jp-mlops-detail[data-run-id="${run.id}"]`);
    const output = detail.locator('.jp-mlops-live-output');
    await expect(output).toBeVisible();

    // Lines appear one after the other while the run is still running.
    await expect(output).toContainText('line 3', { timeout: 60_000 });
    await expect(detail).toHaveAttribute('data-status', 'running');
    await expect(output).toContainText('setup finished'); // a finished cell
    await expect(output.locator('.jp-mlops-output-stderr')).toContainText(
      'a warning on stderr'
    );
    await expect(output).toContainText('line 5', { timeout: 30_000 });
    await expect(detail).toHaveAttribute('data-status', 'running');
    await output.screenshot({ path: SHOTS + '/live-output.png' });

    // Cancel: the output stays, complete.
    await detail.locator('.jp-mlops-cancel').click();
    await waitForStatus(detail, 'cancelled');
    await expect(
      output.locator('.jp-mlops-live-output-body[data-complete="true"]')
    ).toBeVisible({ timeout: 30_000 });
    await expect(output).toContainText('line 5');
  });
});
