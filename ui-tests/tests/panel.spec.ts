import { expect, galata, test } from '@jupyterlab/galata';

import {
  notebook,
  openRunsPanel,
  putNotebook,
  runRow,
  submitByAPI,
  useMLOpsAPI,
  waitForRuns,
  waitForStatus
} from './helpers';

test.describe.configure({ timeout: 180_000 });

// Small pages, so that three runs need "Load more"; fast polling fallback.
test.use({
  mockSettings: {
    ...galata.DEFAULT_SETTINGS,
    'jupyter-mlops:plugin': { pageSize: 2, refreshInterval: 1 }
  }
});

test.describe('Run history panel', () => {
  useMLOpsAPI();

  test('pages with Load more and filters by notebook, tag and status', async ({
    page,
    tmpPath
  }) => {
    const path = await putNotebook(
      page,
      tmpPath,
      'quick.ipynb',
      notebook([{ source: 'n = 1', tags: ['parameters'] }, { source: 'n * 2' }])
    );
    const ids: string[] = [];
    for (const [n, tag] of [
      [1, 'alpha'],
      [2, 'beta'],
      [3, 'beta']
    ] as Array<[number, string]>) {
      ids.push(
        (
          await submitByAPI(page, {
            notebook: path,
            parameters: { n },
            tags: [tag]
          })
        ).id
      );
    }

    const panel = await openRunsPanel(page);
    // Only this test's notebook (the run store is shared by the tests).
    await panel.locator('#jp-mlops-filter-notebook').fill(path);
    await panel.locator('#jp-mlops-filter-notebook').press('Enter');
    const rows = panel.locator('.jp-mlops-run');
    await expect(rows).toHaveCount(2);
    // Newest first.
    await expect(rows.nth(0)).toHaveAttribute('data-run-id', ids[2]);
    await expect(rows.nth(1)).toHaveAttribute('data-run-id', ids[1]);
    await panel.getByRole('button', { name: 'Load more' }).click();
    await expect(rows).toHaveCount(3);
    await expect(rows.nth(2)).toHaveAttribute('data-run-id', ids[0]);
    await expect(panel.getByRole('button', { name: 'Load more' })).toHaveCount(
      0
    );

    await waitForRuns(panel, ids, 'succeeded');

    await panel.locator('#jp-mlops-filter-tag').fill('beta');
    await panel.locator('#jp-mlops-filter-tag').press('Enter');
    await expect(rows).toHaveCount(2);
    await expect(
      rows.locator('.jp-mlops-tag', { hasText: 'alpha' })
    ).toHaveCount(0);

    await panel.locator('#jp-mlops-filter-status').selectOption('failed');
    await expect(rows).toHaveCount(0);
    await expect(panel.locator('.jp-mlops-empty')).toContainText(
      'No run matches'
    );

    await panel.getByRole('button', { name: 'Clear filters' }).click();
    await expect(panel.locator('#jp-mlops-filter-notebook')).toHaveValue('');
    await expect(rows.first()).toBeVisible();
  });

  test('falls back to polling when the event stream is unavailable', async ({
    page,
    tmpPath
  }) => {
    // Registered after beforeEach's route, so it wins for the stream.
    await page.route(/\/mlops\/api\/events/, route => route.abort());
    const path = await putNotebook(
      page,
      tmpPath,
      'polled.ipynb',
      notebook([{ source: 'n = 1', tags: ['parameters'] }, { source: 'n * 2' }])
    );
    const panel = await openRunsPanel(page);
    await expect(panel.locator('.jp-mlops-connection')).toHaveText(/polling/);
    const run = await submitByAPI(page, { notebook: path });
    const row = runRow(panel, run.id);
    await expect(row).toBeVisible({ timeout: 30_000 });
    await waitForStatus(row, 'succeeded');
  });
});
