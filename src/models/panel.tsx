/**
 * The Models side panel: registered models with their aliases, and a model's
 * page (versions with their runs' metrics side by side, lineage, policy,
 * history) with Promote, Force, Register, Policy and Delete actions. A
 * promotion shows its validation runs and each requirement's verdict while
 * the server drives it (polled until it is decided).
 */
import { InputDialog, showDialog, Dialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ErrorBanner, Loading, Section, TableHead } from '../components';
import { formatMetric, formatTime, shortId, shortSha } from '../format';
import { PanelHeader } from '../modelPanel';
import { errorMessage } from '../request';
import type {
  IModelDetail,
  IModelSummary,
  IPromotion,
  IRegistryEvent,
  ModelsClient
} from './api';
import {
  aliasText,
  describeEvent,
  isPending,
  metricColumns,
  parseRequirementLines,
  pendingPromotions,
  verdictsOf
} from './logic';
import { VersionChart } from './versionChart';

const POLL_MS = 1000;

interface IProps {
  client: ModelsClient;
  trans: TranslationBundle;
  onOpenRun: (id: string) => void;
}

async function ask(
  title: string,
  label: string,
  text = ''
): Promise<string | null> {
  const result = await InputDialog.getText({ title, label, text });
  return result.button.accept && result.value ? result.value.trim() : null;
}

function PromotionView(props: {
  promotion: IPromotion;
  trans: TranslationBundle;
  onOpenRun: (id: string) => void;
}): JSX.Element {
  const { promotion: p, trans } = props;
  const runLink = (id: string | null, label: string) =>
    id ? (
      <li>
        {label}{' '}
        <a href="#" onClick={() => props.onOpenRun(id)}>
          {shortId(id)}
        </a>
      </li>
    ) : null;
  return (
    <div className={`jp-mlops-promotion jp-mlops-promotion-${p.state}`}>
      <div className="jp-mlops-promotion-head">
        {trans.__('v%1 → @%2: %3', p.version, p.alias, p.state)}
      </div>
      <ul>
        {runLink(p.candidate_run, trans.__('candidate validation run'))}
        {runLink(p.baseline_run, trans.__('baseline validation run'))}
      </ul>
      {verdictsOf(p).length > 0 && (
        <table className="jp-mlops-table jp-mlops-verdicts">
          <TableHead
            labels={[
              trans.__('Requirement'),
              trans.__('Candidate'),
              trans.__('Baseline'),
              trans.__('Verdict')
            ]}
          />
          <tbody>
            {verdictsOf(p).map(v => (
              <tr key={v.requirement}>
                <td>{v.requirement}</td>
                <td>{formatMetric(v.candidate)}</td>
                <td>{formatMetric(v.baseline)}</td>
                <td className={v.holds ? 'jp-mlops-holds' : 'jp-mlops-fails'}>
                  {v.holds ? trans.__('holds') : trans.__('failed')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="jp-mlops-hint">{p.message}</p>
    </div>
  );
}

function ModelPage(
  props: IProps & { name: string; onBack: () => void }
): JSX.Element {
  const { client, trans, name } = props;
  const [detail, setDetail] = React.useState<IModelDetail | null>(null);
  const [events, setEvents] = React.useState<IRegistryEvent[]>([]);
  const [promotion, setPromotion] = React.useState<IPromotion | null>(null);
  const [error, setError] = React.useState<string | null>(null);

  const load = React.useCallback(async () => {
    try {
      const [d, h] = await Promise.all([
        client.get(name),
        client.history(name)
      ]);
      setDetail(d);
      setEvents(h);
      setError(null);
      const pending = pendingPromotions(h)[0];
      if (pending && !promotion) {
        setPromotion(await client.promotion(name, pending.id));
      }
    } catch (reason) {
      setError(errorMessage(reason));
    }
  }, [client, name, promotion]);

  React.useEffect(() => void load(), [name]);
  React.useEffect(() => {
    if (!isPending(promotion) || !promotion?.id) {
      return;
    }
    const timer = window.setInterval(async () => {
      try {
        const next = await client.promotion(name, promotion.id as number);
        setPromotion(next);
        if (!isPending(next)) {
          void load();
        }
      } catch (reason) {
        setError(errorMessage(reason));
      }
    }, POLL_MS);
    return () => window.clearInterval(timer);
  }, [promotion?.id, promotion?.state]);

  const act = async (action: () => Promise<void>) => {
    try {
      await action();
      setError(null);
      await load();
    } catch (reason) {
      setError(errorMessage(reason));
    }
  };
  const promote = (version: number, force: boolean) =>
    act(async () => {
      const alias = await ask(
        trans.__('Promote version %1', version),
        trans.__('Alias'),
        'production'
      );
      if (!alias) {
        return;
      }
      let reason: string | null = null;
      if (force) {
        reason = await ask(
          trans.__('Force the move'),
          trans.__('Reason (recorded)')
        );
        if (!reason) {
          return;
        }
      }
      setPromotion(
        await client.promote(
          name,
          force ? { version, alias, force, reason } : { version, alias, force }
        )
      );
    });
  const setPolicy = () =>
    act(async () => {
      const validate = await ask(
        trans.__('Promotion policy'),
        trans.__('Validation notebook (path in the root)'),
        (detail?.policy?.validate as string) ?? ''
      );
      const require = validate
        ? await ask(
            trans.__('Promotion policy'),
            trans.__('Requirements, separated by ";"'),
            ((detail?.policy?.require as string[]) ?? []).join('; ')
          )
        : null;
      if (validate && require) {
        await client.setPolicy(name, {
          validate,
          require: parseRequirementLines(require)
        });
      }
    });
  const register = () =>
    act(async () => {
      const run = await ask(trans.__('Register a version'), trans.__('Run id'));
      const artifact = run
        ? await ask(
            trans.__('Register a version'),
            trans.__('Model artifact'),
            'model'
          )
        : null;
      if (run && artifact) {
        await client.register(run, artifact, name);
      }
    });
  const remove = (version?: number) =>
    act(async () => {
      const what = version === undefined ? name : `${name} v${version}`;
      const result = await showDialog({
        title: trans.__('Delete %1?', what),
        body: trans.__('Its history is kept.'),
        buttons: [
          Dialog.cancelButton(),
          Dialog.warnButton({ label: trans.__('Delete') })
        ]
      });
      if (result.button.accept) {
        await client.remove(name, version);
        if (version === undefined) {
          props.onBack();
        }
      }
    });

  if (!detail) {
    return error ? <ErrorBanner error={error} /> : <Loading trans={trans} />;
  }
  const keys = metricColumns(detail.versions);
  return (
    <div className="jp-mlops-model-page" data-model={name}>
      <div className="jp-mlops-model-head">
        <button className="jp-mod-styled jp-mlops-back" onClick={props.onBack}>
          {trans.__('← Models')}
        </button>
        <h3>{name}</h3>
        <span className="jp-mlops-aliases">{aliasText(detail.aliases)}</span>
      </div>
      <ErrorBanner error={error} />
      {promotion && (
        <PromotionView
          promotion={promotion}
          trans={trans}
          onOpenRun={props.onOpenRun}
        />
      )}
      <Section title={trans.__('Versions')}>
        <table className="jp-mlops-table jp-mlops-versions">
          <TableHead
            labels={[
              trans.__('Version'),
              trans.__('Aliases'),
              trans.__('Run'),
              trans.__('Commit'),
              ...keys,
              ''
            ]}
          />
          <tbody>
            {detail.versions.map(v => (
              <tr key={v.version} data-version={v.version}>
                <td title={v.sha256}>{v.version}</td>
                <td className="jp-mlops-version-aliases">
                  {v.aliases.map(a => '@' + a).join(', ')}
                </td>
                <td>
                  <a href="#" onClick={() => props.onOpenRun(v.run_id)}>
                    {shortId(v.run_id)}
                  </a>
                </td>
                <td>{shortSha(v.commit)}</td>
                {keys.map(k => (
                  <td key={k}>{formatMetric(v.metrics[k])}</td>
                ))}
                <td>
                  <button
                    className="jp-mod-styled jp-mlops-promote"
                    onClick={() => void promote(v.version, false)}
                  >
                    {trans.__('Promote')}
                  </button>
                  <button
                    className="jp-mod-styled jp-mlops-force"
                    onClick={() => void promote(v.version, true)}
                  >
                    {trans.__('Force…')}
                  </button>
                  <button
                    className="jp-mod-styled jp-mlops-delete-version"
                    onClick={() => void remove(v.version)}
                  >
                    {trans.__('Delete')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <VersionChart versions={detail.versions} keys={keys} trans={trans} />
      <Section title={trans.__('Policy')}>
        <p className="jp-mlops-policy">
          {detail.policy
            ? `${detail.policy.validate}: ${((detail.policy.require as string[]) ?? []).join('; ')}`
            : trans.__('No policy: promotions need one (or Force).')}
        </p>
        <button
          className="jp-mod-styled jp-mlops-set-policy"
          onClick={() => void setPolicy()}
        >
          {trans.__('Set policy…')}
        </button>
        <button
          className="jp-mod-styled jp-mlops-register"
          onClick={() => void register()}
        >
          {trans.__('Register…')}
        </button>
        <button
          className="jp-mod-styled jp-mlops-delete-model"
          onClick={() => void remove()}
        >
          {trans.__('Delete model')}
        </button>
      </Section>
      <Section title={trans.__('History')}>
        <ul className="jp-mlops-history">
          {[...events].reverse().map(e => (
            <li key={e.id} data-action={e.action} title={formatTime(e.at)}>
              {describeEvent(e)}
            </li>
          ))}
        </ul>
      </Section>
    </div>
  );
}

function ModelsView(props: IProps): JSX.Element {
  const { client, trans } = props;
  const [models, setModels] = React.useState<IModelSummary[] | null>(null);
  const [selected, setSelected] = React.useState<string | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const refresh = React.useCallback(async () => {
    try {
      setModels(await client.list());
      setError(null);
    } catch (reason) {
      setError(errorMessage(reason));
    }
  }, [client]);
  React.useEffect(() => void refresh(), [selected]);

  return (
    <>
      <PanelHeader
        title={trans.__('Models')}
        refreshTooltip={trans.__('Refresh models')}
        onRefresh={() => void refresh()}
      />
      <ErrorBanner error={error} />
      {selected ? (
        <ModelPage
          {...props}
          key={selected}
          name={selected}
          onBack={() => setSelected(null)}
        />
      ) : models === null ? (
        <Loading trans={trans} />
      ) : models.length === 0 ? (
        <p className="jp-mlops-hint">
          {trans.__(
            'No registered models. Register one from a run (a model artifact), with log_model(..., register_as=NAME) or jupyter mlops models register.'
          )}
        </p>
      ) : (
        <ul className="jp-mlops-models">
          {models.map(m => (
            <li key={m.name} data-model={m.name}>
              <a href="#" onClick={() => setSelected(m.name)}>
                {m.name}
              </a>{' '}
              <span className="jp-mlops-aliases">{aliasText(m.aliases)}</span>{' '}
              <span className="jp-mlops-hint">
                {trans._n('%1 version', '%1 versions', m.version_count)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/**
 * The Models side panel (re-renders its React view when shown).
 */
export class ModelsPanel extends ReactWidget {
  constructor(private readonly _props: IProps) {
    super();
    for (const name of [
      'jp-mlops-panel',
      'jp-mlops-root',
      'jp-mlops-models-panel'
    ]) {
      this.addClass(name);
    }
  }

  protected onAfterShow(): void {
    this.update();
  }

  protected render(): JSX.Element {
    return <ModelsView {...this._props} />;
  }
}
