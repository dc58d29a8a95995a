/**
 * Run summaries and details for the tests, with every field the schema
 * asks for; each test overrides what it is about.
 */
import type { IRunDetail, IRunSummary } from '../api';

export function summary(fields: Partial<IRunSummary> = {}): IRunSummary {
  return {
    id: 'run-0',
    status: 'succeeded',
    status_reason: null,
    notebook: 'train.ipynb',
    kernel: 'python3',
    created_at: '2026-01-01T10:00:00Z',
    started_at: null,
    finished_at: null,
    duration_s: null,
    cells_done: 0,
    cells_total: null,
    current_cell: null,
    parameters: {},
    tags: [],
    seed: 1,
    gpus: 0,
    commit: '0123456789abcdef',
    reproduced_from: null,
    source: 'ui',
    submitted_by: null,
    queue_position: null,
    schedule_id: null,
    scheduled_for: null,
    ...fields
  };
}

export function detail(fields: Partial<IRunDetail> = {}): IRunDetail {
  return {
    ...summary(),
    parameter_types: {},
    timeout_s: null,
    cuda_visible_devices: null,
    snapshot: {
      commit: '0123456789abcdef',
      ref: 'refs/mlops/runs/run-0',
      git_dir: '/repo/.git',
      worktree: '/repo',
      notebook: 'train.ipynb',
      branch: 'main',
      base_commit: null,
      dirty: false,
      private_repo: false
    },
    runner: {
      backend: 'local',
      pid: null,
      host: null,
      kernel_pid: null,
      heartbeat_at: null,
      run_dir: null
    },
    error: null,
    status_history: [],
    cells: [],
    artifacts: [],
    warnings: [],
    environment: null,
    metrics: {},
    ...fields
  };
}
