/**
 * Helpers of the jupyter-mlops Galata tests: notebooks to upload, and the
 * steps every test repeats (open a notebook, fill the Run as job dialog,
 * wait for a run to reach a status).
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

/**
 * Galata mocks `/api/kernels` with a regex that also matches our
 * `/mlops/api/kernels`; send ours to the server (routes added later win).
 */
export async function unmockMLOpsAPI(
  page: IJupyterLabPageFixture
): Promise<void> {
  await page.route(/\/mlops\/api\//, route => route.continue());
}

/** Unmock our API before each test of the enclosing `test.describe`. */
export function useMLOpsAPI(): void {
  test.beforeEach(async ({ page }) => {
    await unmockMLOpsAPI(page);
  });
}

/**
 * Screenshots for a person to look at after a run (ui-tests/screenshots/, not committed:
 * they are taken, not compared, so a committed copy would only churn with every run).
 */
export const SHOTS = 'screenshots';

/** Seconds a run may take here (2 cores: ~3-5 s; generous for CI). */
export const RUN_TIMEOUT = 90_000;

type CellSpec = { source: string; tags?: string[] };

/** An nbformat v4 notebook with code cells. */
export function notebook(cells: CellSpec[]): string {
  return JSON.stringify(
    {
      cells: cells.map((cell, i) => ({
        cell_type: 'code',
        execution_count: null,
        id: `cell-${i}`,
        metadata: cell.tags ? { tags: cell.tags } : {},
        outputs: [],
        source: cell.source
      })),
      metadata: {
        kernelspec: {
          display_name: 'Python 3 (ipykernel)',
          language: 'python',
          name: 'python3'
        },
        language_info: { name: 'python' }
      },
      nbformat: 4,
      nbformat_minor: 5
    },
    null,
    1
  );
}

/** A notebook with typed parameters and a result that depends on them. */
export const TRAIN_NOTEBOOK = notebook([
  {
    source: [
      'lr = 0.1  # learning rate',
      'epochs: int = 3  # passes over the data',
      'name = "baseline"',
      'shuffle = True',
      'layers = [32, 16]'
    ].join('\n'),
    tags: ['parameters']
  },
  {
    source: 'print(f"trained {name}: lr={lr} epochs={epochs} layers={layers}")'
  },
  { source: 'score = lr * epochs\nscore' }
]);

/** A notebook whose second cell raises. */
export const FAILING_NOTEBOOK = notebook([
  { source: 'threshold = 1', tags: ['parameters'] },
  { source: 'x = 1' },
  {
    source: 'raise ValueError(f"loss diverged above threshold {threshold}")'
  }
]);

/** A notebook that runs for ten minutes unless cancelled. */
export const SLOW_NOTEBOOK = notebook([
  { source: 'seconds = 600', tags: ['parameters'] },
  { source: 'import time\ntime.sleep(seconds)' }
]);

/**
 * A notebook that logs `loss` (a decaying, wiggling curve times `scale`)
 * and `acc` for `steps` steps, sleeping `pause` seconds after each.
 */
export const LOSS_NOTEBOOK = notebook([
  { source: 'steps = 40\npause = 0.25\nscale = 1.0', tags: ['parameters'] },
  {
    source: [
      'import math',
      'import time',
      '',
      'from jupyter_mlops import log_metric',
      '',
      'for i in range(steps):',
      '    log_metric("loss", scale * (math.exp(-i / 12) + 0.03 * math.sin(i)))',
      '    log_metric("acc", i / steps)',
      '    time.sleep(pause)'
    ].join('\n')
  }
]);

/** Points a metric chart (`.jp-mlops-chart`) draws now (0 when absent). */
export async function chartPoints(chart: Locator): Promise<number> {
  const value = await chart
    .getAttribute('data-points', { timeout: 1000 })
    .catch(() => null);
  return value === null ? 0 : Number(value);
}

/** Upload a notebook into the test's directory; returns its path. */
export async function putNotebook(
  page: IJupyterLabPageFixture,
  tmpPath: string,
  name: string,
  content: string
): Promise<string> {
  const path = `${tmpPath}/${name}`;
  await page.contents.uploadContent(content, 'text', path);
  return path;
}

/** The Run as job dialog. */
export function runDialog(page: IJupyterLabPageFixture): Locator {
  return page.locator('.jp-Dialog.jp-mlops-runjob-dialog');
}

/**
 * Open a notebook and its Run as job dialog from the notebook toolbar.
 * JupyterLab may mark a freshly opened notebook as modified (kernel metadata);
 * the "Save before running?" question is then answered with "Save and run".
 */
export async function openRunDialog(
  page: IJupyterLabPageFixture,
  path: string
): Promise<Locator> {
  // Galata opens (or activates) the notebook by double-clicking it in the file
  // browser, which another side panel (the runs) may have replaced.
  await page.sidebar.openTab('filebrowser');
  await page.notebook.openByPath(path);
  await page
    .locator('.jp-NotebookPanel-toolbar .jp-mlops-toolbar-run')
    .filter({ visible: true })
    .first()
    .click();
  const dialog = runDialog(page);
  const savePrompt = page
    .locator('.jp-Dialog')
    .filter({ hasText: 'Save before running?' });
  await expect(dialog.or(savePrompt)).toBeVisible();
  if (await savePrompt.isVisible()) {
    await savePrompt.getByRole('button', { name: 'Save and run' }).click();
  }
  await expect(dialog).toBeVisible();
  await expect(dialog.locator('.jp-mlops-runform')).toBeVisible();
  return dialog;
}

/** Dismiss a dialog with its reject (Cancel) button and wait until it is gone. */
export async function rejectDialog(dialog: Locator): Promise<void> {
  await dialog.locator('.jp-Dialog-button.jp-mod-reject').click();
  await expect(dialog).toHaveCount(0);
}

/** Click Run in the dialog and return the new run's id (from the side panel). */
export async function submitDialog(
  page: IJupyterLabPageFixture
): Promise<void> {
  const dialog = runDialog(page);
  const run = dialog.locator('.jp-Dialog-button.jp-mod-accept');
  await expect(run).toBeEnabled();
  await run.click();
  await expect(dialog).toHaveCount(0, { timeout: 30_000 });
}

/** Open the side panel whose tab (and element) has the id `id`. */
export async function openSidePanel(
  page: IJupyterLabPageFixture,
  id: string
): Promise<Locator> {
  await page.sidebar.openTab(id);
  const panel = page.locator(`#${id}`);
  await expect(panel).toBeVisible();
  return panel;
}

/** Open the run history side panel. */
export function openRunsPanel(page: IJupyterLabPageFixture): Promise<Locator> {
  return openSidePanel(page, 'jupyter-mlops-runs');
}

/** The panel's row of the run `id`. */
export function runRow(panel: Locator, id: string): Locator {
  return panel.locator(`.jp-mlops-run[data-run-id="${id}"]`);
}

/** Wait until the panel's rows of every run in `ids` show `status`. */
export async function waitForRuns(
  panel: Locator,
  ids: string[],
  status: string | RegExp,
  timeout = RUN_TIMEOUT
): Promise<void> {
  for (const id of ids) {
    await waitForStatus(runRow(panel, id), status, timeout);
  }
}

/** The panel's rows of runs of the notebook `name`, newest first. */
export function runRows(panel: Locator, name: string): Locator {
  return panel.locator('.jp-mlops-run').filter({
    has: panel.page().locator('.jp-mlops-run-notebook', { hasText: name })
  });
}

const TERMINAL = ['succeeded', 'failed', 'cancelled', 'timed_out', 'lost'];

/**
 * Wait until the row (or detail) shows `status`; fail at once, with the
 * status, when the run ends in another one.
 */
export async function waitForStatus(
  row: Locator,
  status: string | RegExp,
  timeout = RUN_TIMEOUT
): Promise<void> {
  const want = typeof status === 'string' ? new RegExp(`^${status}$`) : status;
  const deadline = Date.now() + timeout;
  let seen: string | null = null;
  while (Date.now() < deadline) {
    seen = await row
      .getAttribute('data-status', {
        timeout: Math.max(1, deadline - Date.now())
      })
      .catch(() => null);
    if (seen !== null && want.test(seen)) {
      return;
    }
    if (seen !== null && TERMINAL.includes(seen)) {
      const title = await row
        .locator('.jp-mlops-badge')
        .first()
        .getAttribute('title')
        .catch(() => null);
      throw new Error(
        `the run ended "${seen}" (${title ?? 'no reason'}), expected ${status}`
      );
    }
    await row.page().waitForTimeout(250);
  }
  throw new Error(
    `the run is "${seen}" after ${timeout} ms, expected ${status}`
  );
}

/** Submit a run through the REST API (faster set-up for tests about other views). */
export async function submitByAPI(
  page: IJupyterLabPageFixture,
  body: Record<string, unknown>
): Promise<{ id: string; status: string }> {
  const response = await page.request.post('/mlops/api/runs', { data: body });
  expect(response.status(), await response.text()).toBe(201);
  return (await response.json()) as { id: string; status: string };
}

/** A pipeline's first step: `n = 3` (the pipeline file gives it 4). */
const PIPELINE_PREPARE = notebook([
  { source: 'n = 3', tags: ['parameters'] },
  { source: 'print("prepared", n)' }
]);

/** A pipeline's second step: `upstream` (a reference to the first step's run). */
const PIPELINE_REPORT = notebook([
  { source: 'upstream = ""', tags: ['parameters'] },
  { source: 'print("report of", upstream)' }
]);

/**
 * Upload `prepare.ipynb`, `report.ipynb` and a `pipeline.yaml` named `name`
 * running them in turn (`report` gets `reportOptions` as extra YAML lines).
 */
export async function putPipeline(
  page: IJupyterLabPageFixture,
  tmpPath: string,
  name: string,
  reportOptions: string[] = []
): Promise<void> {
  await putNotebook(page, tmpPath, 'prepare.ipynb', PIPELINE_PREPARE);
  await putNotebook(page, tmpPath, 'report.ipynb', PIPELINE_REPORT);
  const yaml = [
    `name: ${name}`,
    'steps:',
    '  prepare:',
    '    notebook: prepare.ipynb',
    '    parameters: {n: 4}',
    '  report:',
    '    notebook: report.ipynb',
    ...reportOptions.map(line => `    ${line}`),
    "    parameters: {upstream: '${steps.prepare.run_id}'}",
    ''
  ].join('\n');
  await page.contents.uploadContent(yaml, 'text', `${tmpPath}/pipeline.yaml`);
}

/** Open the Run Pipeline dialog of `dir`'s pipeline.yaml, its steps read. */
export async function openPipelineDialog(
  page: IJupyterLabPageFixture,
  dir: string
): Promise<Locator> {
  await page.sidebar.openTab('filebrowser');
  await page.filebrowser.openDirectory(dir);
  await page
    .locator('.jp-DirListing-item[data-file-type="yaml"]', {
      hasText: 'pipeline.yaml'
    })
    .click({ button: 'right' });
  await page.locator('.lm-Menu-item', { hasText: 'Run Pipeline…' }).click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toContainText('Run pipeline');
  await expect(dialog.locator('.jp-mlops-pipeline-form-inner')).toBeVisible({
    timeout: 30_000
  });
  return dialog;
}
