/**
 * A verified reproduction from the run detail: "Reproduce and verify" starts
 * it, nobody waits, its runner records the verdict, and the reproduction's
 * detail shows it with the differing cell's diff; every run lists what is
 * pinned for a rebuild; the compare view shows a changed dataset with its
 * drift, and a verified reproduction of a run whose data changed is refused.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

import {
  notebook,
  openRunsPanel,
  putNotebook,
  RUN_TIMEOUT,
  runRow,
  SHOTS,
  submitByAPI,
  useMLOpsAPI,
  waitForStatus
} from './helpers';

test.describe.configure({ timeout: 240_000 });

/** Prints and shows the same things every time. */
const STEADY_NOTEBOOK = notebook([
  { source: 'scale = 2', tags: ['parameters'] },
  { source: 'values = [i * scale for i in range(5)]\nprint("values", values)' },
  { source: 'sum(values)' }
]);

/** Prints the clock in its second cell: never the same twice. */
const CLOCK_NOTEBOOK = notebook([
  { source: 'print("same every time")' },
  { source: 'import time\nprint(time.time_ns())' }
]);

/** Submit `content` as `name`, open its detail once it succeeded. */
async function succeededDetail(
  page: IJupyterLabPageFixture,
  tmpPath: string,
  name: string,
  content: string
): Promise<{ id: string; detail: Locator }> {
  const path = await putNotebook(page, tmpPath, name, content);
  const run = await submitByAPI(page, { notebook: path });
  const panel = await openRunsPanel(page);
  const row = runRow(panel, run.id);
  await expect(row).toBeVisible({ timeout: 30_000 });
  await waitForStatus(row, 'succeeded');
  await row.locator('.jp-mlops-run-open').click();
  const detail = page.locator(
    `.jp-mlops-detail[data-run-id="${run.id}"][data-status="succeeded"]`
  );
  await expect(detail).toBeVisible({ timeout: 30_000 });
  return { id: run.id, detail };
}

/** Click "Reproduce and verify"; the reproduction's detail, once it ended. */
async function reproduceAndVerify(
  page: IJupyterLabPageFixture,
  id: string,
  detail: Locator
): Promise<Locator> {
  await detail.locator('.jp-mlops-reproduce-verify').click();
  const copy = page.locator(`.jp-mlops-detail:not([data-run-id="${id}"])`);
  await expect(copy).toBeVisible({ timeout: 30_000 });
  await expect(copy.getByRole('button', { name: id })).toBeVisible();
  await waitForStatus(copy, 'succeeded', RUN_TIMEOUT);
  return copy;
}

/** A CSV of 200 rows whose column x starts at `shift`. */
function table(shift: number): string {
  const rows = Array.from({ length: 200 }, (_, i) => `${i + shift},k${i % 3}`);
  return ['x,kind', ...rows].join('\n') + '\n';
}

/**
 * Reads the dataset its parameter names (recorded by the runner): an absolute
 * path in `dir`, a directory outside the notebook's project, so the run's
 * snapshot does not hold a copy and a reproduction reads the file as it is now.
 */
function dataNotebook(dir: string): string {
  const train = JSON.stringify(join(dir, 'train.csv'));
  return notebook([
    { source: `train = ${train}  # mlops: dataset`, tags: ['parameters'] },
    { source: 'print(len(open(train).read().splitlines()))' }
  ]);
}

test.describe('Reproduce and verify', () => {
  useMLOpsAPI();

  test('a steady notebook reproduces identical; the summary says what is pinned', async ({
    page,
    tmpPath
  }) => {
    const { id, detail } = await succeededDetail(
      page,
      tmpPath,
      'steady.ipynb',
      STEADY_NOTEBOOK
    );
    const summary = detail.locator('.jp-mlops-reproducibility');
    await expect(summary.locator('li[data-item="commit"]')).toHaveAttribute(
      'data-pinned',
      'true'
    );
    await expect(summary.locator('li[data-item="data"]')).toHaveAttribute(
      'data-pinned',
      'false'
    );
    await expect(summary.locator('li[data-item="packages"]')).toContainText(
      'lock file'
    );
    await expect(detail.locator('.jp-mlops-verification')).toHaveCount(0);

    const copy = await reproduceAndVerify(page, id, detail);
    const verdict = copy.locator('.jp-mlops-verification .jp-mlops-verdict');
    // the verdict is written before the terminal status: no reload needed
    await expect(verdict).toHaveAttribute('data-verdict', 'identical');
    await expect(copy.locator('.jp-mlops-verification')).toContainText(
      `against run ${id}`
    );
    await copy.locator('.jp-mlops-verify-inputs-details summary').click();
    await expect(
      copy.locator('.jp-mlops-verify-inputs tr[data-kind="commit"]')
    ).toHaveAttribute('data-status', 'same');
    await page.screenshot({ path: SHOTS + '/verify-identical.png' });
  });

  test('a printed clock differs, naming its cell with a diff', async ({
    page,
    tmpPath
  }) => {
    const { id, detail } = await succeededDetail(
      page,
      tmpPath,
      'clock.ipynb',
      CLOCK_NOTEBOOK
    );
    const copy = await reproduceAndVerify(page, id, detail);
    const section = copy.locator('.jp-mlops-verification');
    await expect(section.locator('.jp-mlops-verdict')).toHaveAttribute(
      'data-verdict',
      'differs'
    );
    const cell = section.locator('.jp-mlops-verify-cell');
    await expect(cell).toHaveCount(1);
    await expect(cell).toHaveAttribute('data-cell-index', '1');
    await expect(cell.locator('.jp-mlops-verify-source')).toContainText(
      'time.time_ns()'
    );
    await expect(cell.locator('.jp-mlops-verify-diff')).toContainText(
      '--- original'
    );
    await section.scrollIntoViewIfNeeded();
    await page.screenshot({ path: SHOTS + '/verify-differs.png' });
  });

  test('compare shows a changed dataset with drift; verify refuses it', async ({
    page,
    tmpPath
  }) => {
    // The data lives outside the project (the server runs on this machine): a
    // file the snapshot holds is the snapshot's copy for every reproduction.
    const data = mkdtempSync(join(tmpdir(), 'jupyter-mlops-uitest-data-'));
    try {
      writeFileSync(join(data, 'train.csv'), table(0));
      writeFileSync(join(data, 'train_v2.csv'), table(150));
      const path = await putNotebook(
        page,
        tmpPath,
        'data.ipynb',
        dataNotebook(data)
      );
      const a = await submitByAPI(page, { notebook: path });
      const b = await submitByAPI(page, {
        notebook: path,
        parameters: { train: join(data, 'train_v2.csv') }
      });
      const panel = await openRunsPanel(page);
      for (const run of [a, b]) {
        const row = runRow(panel, run.id);
        await expect(row).toBeVisible({ timeout: 30_000 });
        await waitForStatus(row, 'succeeded');
        await row.locator('.jp-mlops-run-select').check();
      }
      await panel.locator('.jp-mlops-compare').click();
      const inputs = page.locator('.jp-mlops-compare-inputs');
      const train = inputs.locator('tbody[data-input="train"]');
      await expect(train).toHaveAttribute('data-status', 'changed', {
        timeout: 30_000
      });
      await expect(train.locator('tr[data-column="x"]')).toHaveAttribute(
        'data-flagged',
        'true'
      );
      await expect(train.locator('tr[data-column="x"]')).toContainText('PSI');
      await page.screenshot({ path: SHOTS + '/compare-drift.png' });

      // the data of run a changes: its verified reproduction is refused
      writeFileSync(join(data, 'train.csv'), table(7));
      await runRow(panel, a.id).locator('.jp-mlops-run-open').click();
      const detail = page.locator(
        `.jp-mlops-detail[data-run-id="${a.id}"][data-status="succeeded"]`
      );
      await expect(detail).toBeVisible({ timeout: 30_000 });
      await detail.locator('.jp-mlops-reproduce-verify').click();
      await expect(detail.locator('.jp-mlops-panel-error')).toContainText(
        'train.csv',
        { timeout: 30_000 }
      );
      await expect(detail.locator('.jp-mlops-panel-error')).toContainText(
        'changed'
      );
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});
