import { createHash } from 'crypto';

import { expect, galata, test } from '@jupyterlab/galata';

import {
  notebook,
  openRunsPanel,
  putNotebook,
  runRow,
  SHOTS,
  submitByAPI,
  useMLOpsAPI,
  waitForRuns
} from './helpers';

test.describe.configure({ timeout: 240_000 });

test.use({
  mockSettings: {
    ...galata.DEFAULT_SETTINGS,
    'jupyter-mlops:plugin': { refreshInterval: 2 }
  }
});

/**
 * Three rows of a small table, and a second file read with use_dataset. The
 * cells of an input row: URI, sha256, size, rows, links (the name is its th).
 */
const TRAIN_CSV = 'x,label\n1,a\n2,b\n3,a\n';
const EXTRA_CSV = 'y\n10\n20\n';

/**
 * A notebook with a `# mlops: dataset` parameter (recorded by the runner) and
 * a `use_dataset` call (recorded by the kernel).
 */
const DATASET_NOTEBOOK = notebook([
  { source: 'train = "train.csv"  # mlops: dataset', tags: ['parameters'] },
  {
    source: [
      'import jupyter_mlops as mlops',
      'path = mlops.use_dataset("extra.csv", name="extra")',
      'print(open(train).read(), open(path).read())'
    ].join('\n')
  }
]);

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

test.describe('Run inputs', () => {
  useMLOpsAPI();

  test('the detail lists the datasets a run read, linked to the runs of the same data', async ({
    page,
    tmpPath
  }) => {
    await page.contents.uploadContent(
      TRAIN_CSV,
      'text',
      `${tmpPath}/train.csv`
    );
    await page.contents.uploadContent(
      EXTRA_CSV,
      'text',
      `${tmpPath}/extra.csv`
    );
    const nb = await putNotebook(
      page,
      tmpPath,
      'datasets.ipynb',
      DATASET_NOTEBOOK
    );
    const first = await submitByAPI(page, { notebook: nb });
    const panel = await openRunsPanel(page);
    await waitForRuns(panel, [first.id], 'succeeded');
    const second = await submitByAPI(page, { notebook: nb });
    await waitForRuns(panel, [second.id], 'succeeded');

    await runRow(panel, second.id).locator('.jp-mlops-run-open').click();
    const detail = page.locator(`.jp-mlops-detail[data-run-id="${second.id}"]`);
    await expect(detail).toBeVisible();
    const inputs = detail.locator('.jp-mlops-inputs');
    await expect(inputs).toBeVisible();
    await expect(inputs.locator('tr[data-input]')).toHaveCount(2);

    const train = inputs.locator('tr[data-input="train"]');
    await expect(train.locator('.jp-mlops-input-uri')).toContainText(
      'train.csv'
    );
    await expect(train.locator('code[data-sha256]')).toHaveText(
      sha256(TRAIN_CSV).slice(0, 10)
    );
    await expect(train.locator('td').nth(2)).toHaveText(
      `${TRAIN_CSV.length} B`
    );
    await expect(train.locator('td').nth(3)).toHaveText('3');
    const extra = inputs.locator('tr[data-input="extra"]');
    await expect(extra.locator('code[data-sha256]')).toHaveAttribute(
      'data-sha256',
      sha256(EXTRA_CSV)
    );
    await expect(extra.locator('td').nth(3)).toHaveText('2');

    // the first run read the same data: a link to it, which opens its detail
    const sameData = train.locator(
      `[data-links="same-data"] [data-run-link="${first.id}"]`
    );
    await expect(sameData).toBeVisible({ timeout: 30_000 });
    await inputs.screenshot({ path: `${SHOTS}/run-inputs.png` });
    await sameData.click();
    const firstDetail = page.locator(
      `.jp-mlops-detail[data-run-id="${first.id}"]`
    );
    await expect(firstDetail).toBeVisible();
    await expect(
      firstDetail.locator(
        `.jp-mlops-inputs tr[data-input="train"] [data-run-link="${second.id}"]`
      )
    ).toBeVisible({ timeout: 30_000 });
  });
});
