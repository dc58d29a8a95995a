/**
 * The runs table (issue 11, item 3): opened from the side panel, sorted by a
 * metric on the server, filtered by a parameter with the search syntax, and
 * a bad filter answered inline with its column.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import {
  LOSS_NOTEBOOK,
  openRunsPanel,
  putNotebook,
  RUN_TIMEOUT,
  SHOTS,
  submitByAPI,
  useMLOpsAPI
} from './helpers';

test.describe.configure({ timeout: 240_000 });

/** Wait until the server says the run succeeded. */
async function waitSucceeded(
  page: IJupyterLabPageFixture,
  id: string
): Promise<void> {
  await expect
    .poll(
      async () => {
        const response = await page.request.get(`/mlops/api/runs/${id}`);
        return ((await response.json()) as { status: string }).status;
      },
      { timeout: RUN_TIMEOUT, intervals: [250, 500, 1000] }
    )
    .toBe('succeeded');
}

/** The run ids of the table's rows, top to bottom. */
async function rowIds(table: Locator): Promise<string[]> {
  return table
    .locator('.jp-MLOpsRunsTable-table tbody tr')
    .evaluateAll(rows => rows.map(r => r.getAttribute('data-run-id') ?? ''));
}

async function applyFilter(table: Locator, text: string): Promise<void> {
  const input = table.locator('.jp-MLOpsRunsTable-filterInput');
  await input.fill(text);
  await input.press('Enter');
}

test.describe('Runs table', () => {
  useMLOpsAPI();

  test('the Launcher has a Runs Table card that opens the table', async ({
    page
  }) => {
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('launcher:create');
    });
    // the Launcher just opened (the layout may hold another one behind it)
    const card = page
      .locator('.jp-Launcher:visible .jp-LauncherCard')
      .filter({ hasText: 'Runs Table' });
    await expect(card).toBeVisible();
    await card.click();
    await expect(page.locator('.jp-MLOpsRunsTable')).toBeVisible();
  });

  test('sorts by a metric on the server and filters by a parameter', async ({
    page,
    tmpPath
  }) => {
    const nb = await putNotebook(page, tmpPath, 'table.ipynb', LOSS_NOTEBOOK);
    // Final loss = scale * (exp(-(steps-1)/12) + 0.03 sin(steps-1)):
    // a 2.08, b 0.69, c 1.26.
    const a = await submitByAPI(page, {
      notebook: nb,
      parameters: { steps: 5, pause: 0.0, scale: 3.0 }
    });
    const b = await submitByAPI(page, {
      notebook: nb,
      parameters: { steps: 5, pause: 0.0, scale: 1.0 }
    });
    const c = await submitByAPI(page, {
      notebook: nb,
      parameters: { steps: 6, pause: 0.0, scale: 2.0 }
    });
    for (const run of [a, b, c]) {
      await waitSucceeded(page, run.id);
    }

    const panel = await openRunsPanel(page);
    await panel.locator('.jp-mlops-open-table').click();
    const table = page.locator('.jp-MLOpsRunsTable');
    await expect(table).toBeVisible();

    // Only this test's runs (the store is shared), newest first.
    await applyFilter(table, `notebook = '${nb}'`);
    await expect.poll(() => rowIds(table)).toEqual([c.id, b.id, a.id]);

    // Show the loss and steps columns (the chooser lists the server's keys).
    await table.locator('.jp-MLOpsRunsTable-chooser > summary').click();
    const chooser = table.locator('.jp-MLOpsRunsTable-chooserList');
    await chooser.getByLabel('metrics.loss', { exact: true }).check();
    await chooser.getByLabel('params.steps', { exact: true }).check();
    await table.locator('.jp-MLOpsRunsTable-chooser > summary').click();
    const lossHeader = table.locator('th[data-column="metrics.loss"]');
    await expect(lossHeader).toBeVisible();

    // Sort by the metric: ascending, then descending.
    await lossHeader.locator('button').click();
    await expect(lossHeader).toHaveAttribute('aria-sort', 'ascending');
    await expect.poll(() => rowIds(table)).toEqual([b.id, c.id, a.id]);
    await lossHeader.locator('button').click();
    await expect(lossHeader).toHaveAttribute('aria-sort', 'descending');
    await expect.poll(() => rowIds(table)).toEqual([a.id, c.id, b.id]);
    const cells = table.locator('tbody td[data-column="params.steps"]');
    await expect(cells).toHaveText(['5', '6', '5']);

    // Filter by a parameter: the sort stays.
    await applyFilter(table, `notebook = '${nb}' and params.steps = 5`);
    await expect.poll(() => rowIds(table)).toEqual([a.id, b.id]);
    await table.screenshot({ path: `${SHOTS}/runs-table.png` });

    // A mistake is shown inline, at its column.
    await applyFilter(table, 'params.steps =');
    const problem = table.locator('.jp-MLOpsRunsTable-problem');
    await expect(problem).toContainText('expected a value');
    await expect(problem).toContainText('column 15');
    await expect(
      table.locator('.jp-MLOpsRunsTable-table tbody tr')
    ).toHaveCount(0);
  });
});
