/**
 * The run detail's "Executed notebook" section: the HTML rendering in
 * JupyterLab's current theme (light or dark), buttons to open the executed
 * notebook as a read-only JupyterLab notebook and to download it as `.ipynb`
 * or `.html`.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type { IRunDetail, MLOpsClient } from './api';
import { useThemeVersion } from './chart';
import { Section } from './components';
import { ExecutedNotebookFallback } from './notebookFallback';
import { isActive } from './status';

/** Names the runner gives the executed notebook and its HTML rendering. */
export const OUTPUT_HTML = 'output.html';
export const OUTPUT_NOTEBOOK = 'output.ipynb';

/** Whether JupyterLab shows a dark theme now (its body says so). */
export function isDarkTheme(body: HTMLElement = document.body): boolean {
  return body.dataset.jpThemeLight === 'false';
}

/** The iframe's source: the HTML in the theme, versioned by its content. */
export function themedHtmlSrc(
  baseUrl: string,
  sha256: string,
  dark: boolean
): string {
  const sep = baseUrl.includes('?') ? '&' : '?';
  return `${baseUrl}${sep}v=${sha256.slice(0, 12)}${dark ? '-dark' : ''}`;
}

export function ExecutedNotebookSection(props: {
  run: IRunDetail;
  client: MLOpsClient;
  trans: TranslationBundle;
  onOpenNotebook: () => void;
  /**
   * Called when the HTML view loaded before the run listed `output.html`: the
   * server has stored the rendering by then, so the run can be read again
   * (it then offers the `.html` download too).
   */
  onHtmlRendered?: () => void;
}): JSX.Element {
  const { run, client, trans } = props;
  useThemeVersion(); // redraw when the theme changes
  const dark = isDarkTheme();
  const active = isActive(run.status);
  const html = run.artifacts.find(a => a.name === OUTPUT_HTML);
  const executed = run.artifacts.find(a => a.name === OUTPUT_NOTEBOOK);
  // The runner renders the HTML after the terminal status; until it is listed the HTML
  // view renders it on demand. Only when the rendering failed (a warning says so) are
  // the cells shown from the executed notebook instead.
  const htmlFailed = (run.warnings ?? []).some(w =>
    w.startsWith(`the HTML rendering (${OUTPUT_HTML})`)
  );
  // Versioned by the executed notebook it renders (the same before and after
  // the rendering is listed: the frame does not load twice).
  const frameKey = html
    ? (executed?.sha256 ?? html.sha256)
    : executed && !active && !htmlFailed
      ? executed.sha256
      : null;
  const onHtmlRendered = props.onHtmlRendered;
  return (
    <Section title={trans.__('Executed notebook')} className="jp-mlops-output">
      {(executed || html) && (
        <div className="jp-mlops-output-actions">
          {executed && (
            <button
              type="button"
              className="jp-Button jp-mod-styled jp-mod-accept jp-mlops-open-executed"
              title={trans.__(
                'Open the executed notebook as a read-only JupyterLab notebook'
              )}
              onClick={props.onOpenNotebook}
            >
              {trans.__('Open as notebook')}
            </button>
          )}
          {executed && (
            <a
              className="jp-Button jp-mod-styled jp-mlops-download-ipynb"
              href={client.artifactUrl(run.id, OUTPUT_NOTEBOOK)}
              download={`${run.id}-${OUTPUT_NOTEBOOK}`}
            >
              {trans.__('Download .ipynb')}
            </a>
          )}
          {html && (
            <a
              className="jp-Button jp-mod-styled jp-mlops-download-html"
              href={client.artifactUrl(run.id, OUTPUT_HTML)}
              download={`${run.id}-${OUTPUT_HTML}`}
            >
              {trans.__('Download .html')}
            </a>
          )}
        </div>
      )}
      {frameKey ? (
        <iframe
          key={`${frameKey}-${dark}`}
          className="jp-mlops-output-frame"
          title={trans.__('Executed notebook of run %1', run.id)}
          sandbox="allow-scripts allow-popups"
          referrerPolicy="no-referrer"
          src={themedHtmlSrc(client.htmlUrl(run.id, dark), frameKey, dark)}
          onLoad={html || !onHtmlRendered ? undefined : () => onHtmlRendered()}
        />
      ) : executed && !active ? (
        <ExecutedNotebookFallback
          key={executed.sha256}
          runId={run.id}
          client={client}
          trans={trans}
        />
      ) : (
        <p className="jp-mlops-hint">
          {active
            ? trans.__('The executed notebook appears here when the run ends.')
            : trans.__('This run left no executed notebook.')}
        </p>
      )}
    </Section>
  );
}
