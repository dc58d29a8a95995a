/**
 * Schedules: create one from the Run as job dialog, watch the server's
 * scheduler fire it (a seconds-level cron), open its run, pause it, run it
 * now, delete it.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import {
  notebook,
  openRunDialog,
  openSidePanel,
  putNotebook,
  RUN_TIMEOUT,
  SHOTS,
  useMLOpsAPI,
  waitForStatus
} from './helpers';

test.describe.configure({ timeout: 240_000 });

/** A quick notebook with one parameter. */
const TICK_NOTEBOOK = notebook([
  { source: 'n = 1', tags: ['parameters'] },
  { source: 'print("tick", n * 2)' }
]);

interface IScheduleJSON {
  id: string;
  name: string;
  notebook: string;
  cron: string;
  timezone: string;
  active: boolean;
  concurrency: string;
  parameters: Record<string, unknown>;
  next_fire_at: string | null;
}

async function listSchedules(
  page: IJupyterLabPageFixture
): Promise<IScheduleJSON[]> {
  const response = await page.request.get('/mlops/api/schedules');
  expect(response.status()).toBe(200);
  return ((await response.json()) as { schedules: IScheduleJSON[] }).schedules;
}

/** Delete the schedules of notebooks under `dir` (a failed test must not leave one firing). */
async function deleteSchedulesUnder(
  page: IJupyterLabPageFixture,
  dir: string
): Promise<void> {
  for (const s of await listSchedules(page)) {
    if (s.notebook.startsWith(`${dir}/`)) {
      await page.request.delete(`/mlops/api/schedules/${s.id}`);
    }
  }
}

/** Open the Schedules side panel. */
function openSchedulesPanel(page: IJupyterLabPageFixture): Promise<Locator> {
  return openSidePanel(page, 'jupyter-mlops-schedules');
}

test.describe('Schedules', () => {
  useMLOpsAPI();

  test.afterEach(async ({ page, tmpPath }) => {
    await deleteSchedulesUnder(page, tmpPath);
  });

  test('schedule from Run as job, see it fire, open its run, pause, run now, delete', async ({
    page,
    tmpPath
  }) => {
    const path = await putNotebook(page, tmpPath, 'tick.ipynb', TICK_NOTEBOOK);
    const dialog = await openRunDialog(page, path);
    const accept = dialog.locator('.jp-Dialog-button.jp-mod-accept');
    await dialog.locator('#jp-mlops-param-n').fill('5');

    // The section is closed until ticked; the accept button then says Schedule.
    await expect(dialog.locator('#jp-mlops-schedule-cron')).toHaveCount(0);
    await dialog.locator('#jp-mlops-schedule-enabled').check();
    await expect(accept).toHaveText('Schedule');

    // Presets with a description in words, in the browser's time zone.
    const browserZone = await page.evaluate(
      () => Intl.DateTimeFormat().resolvedOptions().timeZone
    );
    const timezone = dialog.locator('#jp-mlops-schedule-timezone');
    await expect(timezone).toHaveValue(browserZone);
    const cron = dialog.locator('#jp-mlops-schedule-cron');
    const preview = dialog.locator('#jp-mlops-schedule-preview');
    await expect(cron).toHaveValue('0 3 * * *');
    await expect(preview).toHaveText(
      `Every day at 03:00 (${browserZone} time)`
    );
    await dialog.locator('input[data-preset="hourly"]').check();
    await expect(cron).toHaveValue('0 * * * *');
    await expect(preview).toContainText('Every hour, on the hour');
    await dialog.locator('input[data-preset="weekly"]').check();
    await expect(cron).toHaveValue('0 8 * * 1');
    await expect(preview).toContainText('Every Monday at 08:00');

    // A custom expression: checked as typed.
    /** Type `value` into `input`: the section names `problem`, Schedule is disabled. */
    const expectRefused = async (
      input: Locator,
      value: string,
      problem: string
    ): Promise<void> => {
      await input.fill(value);
      await expect(
        dialog.locator('.jp-mlops-schedule-section .jp-mlops-field-error')
      ).toContainText(problem);
      await expect(accept).toBeDisabled();
    };
    await dialog.locator('input[data-preset="custom"]').check();
    await expectRefused(cron, '61 * * * *', 'out of range');
    await cron.fill('30 2 * * 1-5');
    await expect(preview).toContainText(
      'At 02:30 on weekdays (Monday to Friday)'
    );
    await expectRefused(timezone, 'Mars/Olympus_Mons', 'Unknown time zone');
    await timezone.fill('UTC');

    // Seconds are the 6th field: every 10 s, so that it fires during the test.
    await cron.fill('* * * * * */10');
    await expect(preview).toHaveText('Every 10 seconds (UTC time)');
    await dialog.locator('#jp-mlops-schedule-name').fill('tick every 10 s');
    await expect(dialog.locator('#jp-mlops-schedule-concurrency')).toHaveValue(
      'skip'
    );

    // The server refuses a branch that does not exist; the dialog stays open.
    await dialog.locator('#jp-mlops-schedule-branch').fill('no-such-branch');
    await expect(dialog.locator('.jp-mlops-schedule-section')).toContainText(
      'no-such-branch'
    );
    await expect(accept).toBeEnabled();
    await accept.click();
    const serverError = dialog.locator(
      '.jp-mlops-schedule-section .jp-mlops-form-error'
    );
    await expect(serverError).toContainText("branch 'no-such-branch'", {
      timeout: 30_000
    });
    await expect(dialog).toBeVisible();
    await dialog
      .locator('.jp-mlops-schedule-section')
      .screenshot({ path: SHOTS + '/schedule-dialog-server-error.png' });
    await dialog.locator('#jp-mlops-schedule-branch').fill('');
    await expect(serverError).toHaveCount(0);
    await dialog.locator('.jp-mlops-schedule-section').scrollIntoViewIfNeeded();
    await dialog
      .locator('.jp-Dialog-content')
      .screenshot({ path: SHOTS + '/schedule-dialog.png' });

    await accept.click();
    await expect(dialog).toHaveCount(0, { timeout: 30_000 });
    const toast = page
      .locator('.Toastify__toast')
      .filter({ hasText: 'tick every 10 s' });
    await expect(toast).toContainText('Every 10 seconds');

    // Stored as asked: the parameter, the policy, the zone.
    const stored = (await listSchedules(page)).find(
      s => s.name === 'tick every 10 s'
    );
    expect(stored).toBeTruthy();
    expect(stored!.parameters).toEqual({ n: 5 });
    expect(stored!.concurrency).toBe('skip');
    expect(stored!.timezone).toBe('UTC');
    expect(stored!.cron).toBe('* * * * * */10');

    // The Schedules panel lists it with its next fire time.
    const panel = await openSchedulesPanel(page);
    const row = panel.locator(`[data-schedule-id="${stored!.id}"]`);
    await expect(row).toBeVisible({ timeout: 30_000 });
    await expect(row.locator('.jp-mlops-schedule-name')).toHaveText(
      'tick every 10 s'
    );
    const notebookName = row.locator('.jp-mlops-schedule-notebook');
    await expect(notebookName).toHaveText('tick.ipynb');
    await expect(notebookName).toHaveAttribute('data-path', path);
    await expect(row.locator('.jp-mlops-schedule-source')).toHaveText(
      'working copy'
    );
    await expect(row.locator('.jp-mlops-schedule-description')).toHaveText(
      'Every 10 seconds'
    );
    await expect(row.locator('.jp-mlops-schedule-timezone')).toHaveText('UTC');
    await expect(row.locator('.jp-mlops-schedule-state')).toHaveText('active');
    await expect(row.locator('.jp-mlops-schedule-next')).toContainText('Next:');
    expect(
      await row
        .locator('.jp-mlops-schedule-next')
        .getAttribute('data-next-fire-at')
    ).toMatch(/^\d{4}-\d\d-\d\dT/);

    // Its runs, grouped under it: the scheduler fires within 10 s.
    await row.locator('.jp-mlops-schedule-toggle').click();
    const runs = row.locator('.jp-mlops-schedule-run');
    await expect(runs.first()).toBeVisible({ timeout: 60_000 });
    const runId = await runs.last().getAttribute('data-run-id');
    const firstRun = row.locator(
      `.jp-mlops-schedule-run[data-run-id="${runId}"]`
    );
    expect(
      await firstRun
        .locator('.jp-mlops-schedule-run-slot')
        .getAttribute('data-slot')
    ).toMatch(/^\d{4}-\d\d-\d\dT/);
    await waitForStatus(firstRun, 'succeeded', RUN_TIMEOUT);
    await expect(
      row.locator('.jp-mlops-schedule-last .jp-mlops-badge')
    ).toBeVisible();
    await panel.screenshot({ path: SHOTS + '/schedules-panel.png' });

    // Pause: no next fire time.
    await row.locator('.jp-mlops-schedule-pause').click();
    await expect(row).toHaveAttribute('data-active', 'false');
    await expect(row.locator('.jp-mlops-schedule-state')).toHaveText('paused');
    await expect(row.locator('.jp-mlops-schedule-next')).toContainText(
      'Paused'
    );
    await expect(row.locator('.jp-mlops-schedule-pause')).toHaveText('Resume');
    const paused = (await listSchedules(page)).find(s => s.id === stored!.id);
    expect(paused!.active).toBe(false);
    expect(paused!.next_fire_at).toBeNull();

    // Run now, although paused: a run that is no slot.
    const before = await runs.count();
    await row.locator('.jp-mlops-schedule-runnow').click();
    await expect(
      page.locator('.Toastify__toast').filter({ hasText: 'of schedule' })
    ).toBeVisible();
    const manual = row
      .locator('.jp-mlops-schedule-run')
      .filter({ hasText: 'run now' })
      .first();
    await expect(manual).toBeVisible({ timeout: 30_000 });
    expect(await runs.count()).toBeGreaterThan(before);
    await waitForStatus(manual, 'succeeded', RUN_TIMEOUT);
    await panel.screenshot({ path: SHOTS + '/schedules-panel-paused.png' });

    // A run opens in the run detail.
    await firstRun.locator('.jp-mlops-schedule-run-open').click();
    const detail = page.locator(`.jp-mlops-detail[data-run-id="${runId}"]`);
    await expect(detail).toBeVisible({ timeout: 30_000 });
    await expect(detail.locator('tr[data-param="n"] code')).toHaveText('5');

    // Delete, after confirming; its runs are kept.
    await row.locator('.jp-mlops-schedule-delete').click();
    const confirm = page
      .locator('.jp-Dialog')
      .filter({ hasText: 'Delete schedule?' });
    await expect(confirm).toBeVisible();
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await expect(row).toHaveCount(0);
    expect(
      (await listSchedules(page)).some(s => s.id === stored!.id)
    ).toBeFalsy();
    const kept = await page.request.get(`/mlops/api/runs/${runId}`);
    expect(kept.status()).toBe(200);
  });

  test('the empty Schedules panel says how to create one', async ({ page }) => {
    await page.route(/\/mlops\/api\/schedules$/, route =>
      route.fulfill({ json: { schedules: [] } })
    );
    const panel = await openSchedulesPanel(page);
    await expect(panel.locator('.jp-mlops-empty')).toContainText(
      'Run on a schedule'
    );
  });
});
