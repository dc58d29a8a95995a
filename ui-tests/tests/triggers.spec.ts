/**
 * On-commit triggers: create one from the Run as job dialog's Automation
 * section, commit to the branch, and see the server's watcher run the
 * notebook from exactly that commit (its run listed under the trigger in the
 * Schedules panel, the commit shown in the run's detail).
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { execFileSync } from 'child_process';
import * as path from 'path';

import {
  notebook,
  openRunDialog,
  openSidePanel,
  putNotebook,
  RUN_TIMEOUT,
  SHOTS,
  useMLOpsAPI
} from './helpers';

test.describe.configure({ timeout: 240_000 });

const TRAIN_NOTEBOOK = notebook([
  { source: 'lr = 0.1', tags: ['parameters'] },
  { source: 'print("trained with", lr)' }
]);

/** The server's root directory on disk (JupyterLab's page config says it). */
async function serverRoot(page: IJupyterLabPageFixture): Promise<string> {
  return page.evaluate(() => {
    const node = document.getElementById('jupyter-config-data');
    return JSON.parse(node?.textContent ?? '{}').serverRoot as string;
  });
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    'git',
    ['-c', 'user.name=UI Test', '-c', 'user.email=ui@example.com', ...args],
    { cwd, encoding: 'utf-8' }
  ).trim();
}

async function deleteTriggersUnder(
  page: IJupyterLabPageFixture,
  dir: string
): Promise<void> {
  const response = await page.request.get('/mlops/api/triggers');
  const { triggers } = (await response.json()) as {
    triggers: Array<{ id: string; notebook_path: string }>;
  };
  for (const t of triggers) {
    if (t.notebook_path.startsWith(`${dir}/`)) {
      await page.request.delete(`/mlops/api/triggers/${t.id}`);
    }
  }
}

test.describe('Triggers', () => {
  useMLOpsAPI();

  test.afterEach(async ({ page, tmpPath }) => {
    await deleteTriggersUnder(page, tmpPath);
  });

  test('an on-commit trigger from Run as job runs the new commit', async ({
    page,
    tmpPath
  }) => {
    const nbPath = await putNotebook(
      page,
      tmpPath,
      'train.ipynb',
      TRAIN_NOTEBOOK
    );
    const repo = path.join(await serverRoot(page), tmpPath);
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'initial');

    const dialog = await openRunDialog(page, nbPath);
    const accept = dialog.locator('.jp-Dialog-button.jp-mod-accept');
    await expect(dialog.locator('#jp-mlops-trigger-branch')).toHaveCount(0);
    await dialog.locator('#jp-mlops-trigger-enabled').check();
    await expect(accept).toHaveText('Create trigger');
    const branch = dialog.locator('#jp-mlops-trigger-branch');
    await expect(branch).toHaveValue('main');

    // A schedule and a trigger at once: refused in the form.
    await dialog.locator('#jp-mlops-schedule-enabled').check();
    await expect(dialog.locator('.jp-mlops-trigger-section')).toContainText(
      'not both'
    );
    await expect(accept).toBeDisabled();
    await dialog.locator('#jp-mlops-schedule-enabled').uncheck();

    // The server refuses a branch that does not exist; the dialog stays open.
    await branch.fill('no-such-branch');
    await accept.click();
    await expect(
      dialog.locator('.jp-mlops-trigger-section .jp-mlops-form-error')
    ).toContainText("unknown branch 'no-such-branch'", { timeout: 30_000 });
    await branch.fill('main');
    await dialog.locator('#jp-mlops-trigger-name').fill('train on main');
    await dialog
      .locator('.jp-mlops-trigger-section')
      .screenshot({ path: SHOTS + '/trigger-dialog.png' });
    await accept.click();
    await expect(dialog).toHaveCount(0, { timeout: 30_000 });
    await expect(
      page.locator('.Toastify__toast').filter({ hasText: 'train on main' })
    ).toContainText('each new commit on main');

    // A commit on main: the watcher runs the notebook from it.
    git(repo, 'commit', '-q', '--allow-empty', '-m', 'retrain please');
    const sha = git(repo, 'rev-parse', 'HEAD');

    const panel = await openSidePanel(page, 'jupyter-mlops-schedules');
    const row = panel.locator('.jp-mlops-trigger').filter({
      hasText: 'train on main'
    });
    await expect(row).toBeVisible({ timeout: 30_000 });
    await expect(row.locator('.jp-mlops-trigger-when')).toHaveText(
      'each new commit on main'
    );
    const lastRun = row.locator('.jp-mlops-trigger-last-run');
    await expect(lastRun).toBeVisible({ timeout: RUN_TIMEOUT });
    await row.screenshot({ path: SHOTS + '/trigger-row.png' });
    await lastRun.click();
    const detail = page.locator('.jp-mlops-detail[data-run-id]').last();
    await expect(detail).toBeVisible();
    await expect(
      detail.locator(`.jp-mlops-commit[data-sha="${sha}"]`).first()
    ).toBeVisible({ timeout: RUN_TIMEOUT });

    // Paused from the panel, resumed, deleted.
    await row.locator('.jp-mlops-trigger-pause').click();
    await expect(row.locator('.jp-mlops-schedule-state')).toHaveText('paused');
    await row.locator('.jp-mlops-trigger-pause').click();
    await expect(row.locator('.jp-mlops-schedule-state')).toHaveText('active');
    await row.locator('.jp-mlops-trigger-delete').click();
    await page
      .locator('.jp-Dialog')
      .getByRole('button', { name: 'Delete' })
      .click();
    await expect(row).toHaveCount(0);
  });
});
