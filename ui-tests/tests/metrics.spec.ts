import * as fs from 'fs';
import * as path from 'path';

import { expect, galata, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import {
  chartPoints,
  LOSS_NOTEBOOK,
  openRunsPanel,
  putNotebook,
  runRow,
  SHOTS,
  submitByAPI,
  useMLOpsAPI,
  waitForRuns,
  waitForStatus
} from './helpers';

test.describe.configure({ timeout: 240_000 });

// Fast polling fallback, in case the event stream is slow to connect.
test.use({
  mockSettings: {
    ...galata.DEFAULT_SETTINGS,
    'jupyter-mlops:plugin': { refreshInterval: 2 }
  }
});

/** Show only the runs of one notebook in the panel (the store is shared). */
async function filterNotebook(panel: Locator, notebook: string): Promise<void> {
  const input = panel.locator('#jp-mlops-filter-notebook');
  await input.fill(notebook);
  await input.press('Enter');
}

test.describe('Metric plots', () => {
  useMLOpsAPI();

  test('the detail plots a metric live while the run goes, then the final series', async ({
    page,
    tmpPath
  }) => {
    const nb = await putNotebook(page, tmpPath, 'live.ipynb', LOSS_NOTEBOOK);
    const run = await submitByAPI(page, {
      notebook: nb,
      parameters: { steps: 40, pause: 0.25 }
    });
    const panel = await openRunsPanel(page);
    await filterNotebook(panel, nb);
    const row = runRow(panel, run.id);
    await expect(row).toBeVisible({ timeout: 30_000 });
    await row.locator('.jp-mlops-run-open').click();

    const detail = page.locator(`.jp-mlops-detail[data-run-id="${run.id}"]`);
    await expect(detail).toBeVisible();
    const chart = detail.locator('.jp-mlops-chart[data-key="loss"]');
    await expect(chart).toBeVisible({ timeout: 60_000 });
    await expect(detail.locator('.jp-mlops-live').first()).toBeVisible();

    // Watch the number of plotted points grow while the run is going.
    const seen: number[] = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const status = await detail.getAttribute('data-status');
      const points = await chartPoints(chart);
      if (status !== 'running') {
        if (['queued', 'starting'].includes(status ?? '')) {
          await page.waitForTimeout(200);
          continue;
        }
        break;
      }
      if (seen[seen.length - 1] !== points) {
        seen.push(points);
      }
      if (seen.length === 3) {
        await detail
          .locator('.jp-mlops-metrics-section')
          .screenshot({ path: `${SHOTS}/metrics-detail-live.png` });
      }
      await page.waitForTimeout(400);
    }
    expect(seen.length, `points seen while running: ${seen}`).toBeGreaterThan(
      2
    );
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect(seen[0]).toBeLessThan(40);

    await waitForStatus(detail, 'succeeded');
    await expect.poll(() => chartPoints(chart), { timeout: 30_000 }).toBe(40);
    await expect(detail.locator('.jp-mlops-live')).toHaveCount(0);
    await expect(
      detail.locator('.jp-mlops-metric-keys tr[data-key="loss"] td').nth(1)
    ).toHaveText('39');
    // the chart's canvas was drawn
    await expect(chart.locator('canvas')).toHaveCount(1);
    await detail
      .locator('.jp-mlops-metrics-section')
      .screenshot({ path: `${SHOTS}/metrics-detail.png` });
  });

  test('metric columns in the panel sort runs; compare overlays a key across runs', async ({
    page,
    tmpPath
  }) => {
    const nb = await putNotebook(page, tmpPath, 'sweep.ipynb', LOSS_NOTEBOOK);
    const ids: string[] = [];
    for (const scale of [1.0, 2.0]) {
      const run = await submitByAPI(page, {
        notebook: nb,
        parameters: { steps: 30, pause: 0, scale },
        tags: [`scale-${scale}`]
      });
      ids.push(run.id);
    }
    const panel = await openRunsPanel(page);
    await filterNotebook(panel, nb);
    const rows = panel.locator('.jp-mlops-run');
    await expect(rows).toHaveCount(2, { timeout: 30_000 });
    await waitForRuns(panel, ids, 'succeeded');

    // Columns: the latest loss of each run, sortable.
    await panel.locator('#jp-mlops-columns').fill('loss, acc');
    await panel.locator('#jp-mlops-columns').press('Enter');
    const cell = (id: string, key: string) =>
      panel.locator(
        `.jp-mlops-run[data-run-id="${id}"] .jp-mlops-metric-cell[data-metric="${key}"]`
      );
    // loss ends at scale * (exp(-29 / 12) + 0.03 sin(29)): 0.06931 and 0.1386
    await expect(cell(ids[0], 'loss')).toHaveText('0.06931');
    await expect(cell(ids[1], 'loss')).toHaveText('0.1386');
    await expect(cell(ids[0], 'acc')).toHaveText('0.9667');
    // newest first, then by loss ascending, then descending
    await expect(rows.nth(0)).toHaveAttribute('data-run-id', ids[1]);
    const header = panel.locator('.jp-mlops-metric-sort[data-metric="loss"]');
    await header.click();
    await expect(header).toHaveAttribute('data-order', 'asc');
    await expect(rows.nth(0)).toHaveAttribute('data-run-id', ids[0]);
    await panel.screenshot({ path: `${SHOTS}/metrics-panel-columns.png` });
    await header.click();
    await expect(header).toHaveAttribute('data-order', 'desc');
    await expect(rows.nth(0)).toHaveAttribute('data-run-id', ids[1]);
    await header.click();
    await expect(header).not.toHaveAttribute('data-order', /./);

    // Compare: one overlay chart per key, one line per run.
    for (const id of ids) {
      await panel
        .locator(`.jp-mlops-run[data-run-id="${id}"] .jp-mlops-run-select`)
        .check();
    }
    await panel.locator('.jp-mlops-compare').click();
    const overlay = page.locator(
      '.jp-mlops-compare-metrics .jp-mlops-chart[data-key="loss"]'
    );
    await expect(overlay).toBeVisible({ timeout: 30_000 });
    await expect(overlay).toHaveAttribute('data-series', '2');
    await expect.poll(() => chartPoints(overlay)).toBe(60);
    const legend = overlay.locator('.u-legend .u-series');
    await expect(legend).toHaveCount(3); // the x series and one per run
    await expect(legend.nth(1)).toContainText(ids[0].slice(0, 8));
    await expect(legend.nth(2)).toContainText(ids[1].slice(0, 8));
    const metricsTable = page.locator(
      '.jp-mlops-compare-table tr[data-row="metric:loss"] td'
    );
    await expect(metricsTable).toHaveText(['0.06931', '0.1386']);
    const section = page.locator('.jp-mlops-compare-metrics');
    await section.scrollIntoViewIfNeeded();
    await section.screenshot({ path: `${SHOTS}/metrics-compare.png` });
    await page.theme.setDarkTheme();
    await page.waitForTimeout(500);
    await section.screenshot({ path: `${SHOTS}/metrics-compare-dark.png` });
    await page.theme.setLightTheme();
  });

  test('a torch run: metric plots and the model with its architecture and size', async ({
    page,
    tmpPath
  }) => {
    await page.setViewportSize({ width: 1400, height: 1000 });
    const source = fs.readFileSync(
      path.resolve(__dirname, '../../examples/train_torch.ipynb'),
      'utf-8'
    );
    const nb = await putNotebook(page, tmpPath, 'train_torch.ipynb', source);
    const run = await submitByAPI(page, {
      notebook: nb,
      parameters: { epochs: 4 }
    });
    const panel = await openRunsPanel(page);
    await filterNotebook(panel, nb);
    const row = runRow(panel, run.id);
    await expect(row).toBeVisible({ timeout: 30_000 });
    await waitForStatus(row, 'succeeded', 180_000);
    await row.locator('.jp-mlops-run-open').click();
    const detail = page.locator(`.jp-mlops-detail[data-run-id="${run.id}"]`);
    // 4 epochs of 25 steps
    await expect
      .poll(() =>
        chartPoints(detail.locator('.jp-mlops-chart[data-key="train/loss"]'))
      )
      .toBe(100);
    await expect(
      detail.locator('.jp-mlops-chart[data-key="val/accuracy"]')
    ).toBeVisible();
    const model = detail.locator('.jp-mlops-model-meta');
    await expect(model).toHaveAttribute('data-architecture', /\.MLP$/);
    await expect(model.locator('.jp-mlops-model-arch')).toHaveText('MLP');
    // 2*64+64 + 64*64+64 + 64+1 parameters
    await expect(model.locator('.jp-mlops-model-params')).toHaveText(
      '4,417 parameters'
    );
    await detail
      .locator('.jp-mlops-metrics-section')
      .screenshot({ path: `${SHOTS}/metrics-torch.png` });
    await page.screenshot({ path: `${SHOTS}/metrics-torch-page.png` });
    await detail
      .locator('.jp-mlops-artifacts')
      .screenshot({ path: `${SHOTS}/artifacts-model.png` });
  });
});
