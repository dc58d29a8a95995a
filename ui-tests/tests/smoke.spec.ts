import { expect, test } from '@jupyterlab/galata';

const PLUGIN_ID = 'jupyter-mlops:plugin';
const ACTIVATION_MESSAGE = 'JupyterLab extension jupyter-mlops is activated!';

// Open the page ourselves so the console listener sees the startup messages.
test.use({ autoGoto: false });

test.describe('jupyter-mlops smoke', () => {
  test('JupyterLab loads and activates the jupyter-mlops plugin', async ({
    page
  }) => {
    const messages: string[] = [];
    page.on('console', message => {
      messages.push(message.text());
    });

    // Galata's goto waits until the JupyterLab application is ready.
    await page.goto();

    // `window.jupyterapp` is exposed by `c.LabApp.expose_app_in_browser = True`
    // (set by jupyterlab.galata.configure_jupyter_server).
    const state = await page.evaluate(async (id: string) => {
      const app = (window as any).jupyterapp;
      const registered = (app.listPlugins() as string[]).includes(id);
      if (registered) {
        // Resolves once the (auto-started) activation has completed.
        await app.activatePlugin(id);
      }
      return {
        registered,
        activated: registered && (app.isPluginActivated(id) as boolean)
      };
    }, PLUGIN_ID);

    expect(state.registered).toBe(true);
    expect(state.activated).toBe(true);
    await expect.poll(() => messages.includes(ACTIVATION_MESSAGE)).toBe(true);
  });
});
