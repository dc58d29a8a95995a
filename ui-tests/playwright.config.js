/**
 * Playwright configuration for the jupyter-mlops Galata tests.
 *
 * Browsers cannot be downloaded by `npx playwright install` on our CI
 * machines, so Debian's chromium is used instead (override with
 * PLAYWRIGHT_CHROMIUM_PATH).
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const chromiumPath =
  process.env.PLAYWRIGHT_CHROMIUM_PATH || '/usr/bin/chromium';

module.exports = {
  ...baseConfig,
  reporter: [[process.env.CI ? 'github' : 'list'], ['html', { open: 'never' }]],
  retries: process.env.CI ? 1 : 0,
  use: {
    ...baseConfig.use,
    video: 'off',
    launchOptions: {
      executablePath: chromiumPath,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync'
      ]
    }
  },
  webServer: {
    command: 'jlpm start',
    url: 'http://localhost:8888/lab',
    timeout: 120 * 1000,
    reuseExistingServer: !process.env.CI
  }
};
