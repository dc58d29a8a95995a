import { LabIcon } from '@jupyterlab/ui-components';

import mlopsSvgstr from '../style/icons/mlops.svg';

/** The jupyter-mlops icon (side panel tab, run as job, run widgets). */
export const mlopsIcon = new LabIcon({
  name: 'jupyter-mlops:runs',
  svgstr: mlopsSvgstr
});
