/**
 * The input of one notebook parameter in the Run as job form, typed by the
 * parameter's inferred type: a checkbox for bool, a text input for numbers
 * and strings, a JSON text area for the rest; a None toggle for nullable
 * ones.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type { IParameter } from './api';
import { FieldError } from './formFields';
import { hasLiteralDefault, IFieldState } from './runForm';

function typeLabel(param: IParameter): string {
  return param.annotation || param.type_name;
}

/** The control itself (`common`: the attributes every kind of control has). */
function Control(props: {
  param: IParameter;
  field: IFieldState;
  invalid: boolean;
  common: Record<string, unknown>;
  onChange: (field: IFieldState) => void;
}): JSX.Element {
  const { param, field, common, onChange } = props;
  const errorClass = props.invalid ? ' jp-mlops-invalid' : '';
  const text = {
    value: field.text,
    placeholder: hasLiteralDefault(param) ? '' : param.default_source,
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) =>
      onChange({ ...field, text: e.target.value })
  };
  switch (param.type_name) {
    case 'bool':
      return (
        <input
          {...common}
          type="checkbox"
          className="jp-mlops-param-checkbox"
          checked={field.checked}
          onChange={e => onChange({ ...field, checked: e.target.checked })}
        />
      );
    case 'int':
    case 'float':
    case 'str':
      return (
        <input
          {...common}
          type="text"
          inputMode={
            param.type_name === 'int'
              ? 'numeric'
              : param.type_name === 'float'
                ? 'decimal'
                : undefined
          }
          className={`jp-mod-styled jp-mlops-input${errorClass}`}
          {...text}
        />
      );
    default:
      return (
        <textarea
          {...common}
          className={`jp-mod-styled jp-mlops-input jp-mlops-json${errorClass}`}
          rows={Math.min(6, Math.max(1, field.text.split('\n').length))}
          spellCheck={false}
          {...text}
        />
      );
  }
}

export function ParameterInput(props: {
  param: IParameter;
  field: IFieldState;
  error?: string;
  trans: TranslationBundle;
  disabled: boolean;
  onChange: (field: IFieldState) => void;
  /** Distinguishes the ids of forms with several notebooks (pipeline steps). */
  idPrefix?: string;
}): JSX.Element {
  const { param, field, error, trans, onChange } = props;
  const id = `jp-mlops-param-${props.idPrefix ?? ''}${param.name}`;
  const errorId = `${id}-error`;
  const common = {
    id,
    name: param.name,
    disabled: props.disabled || (param.nullable && field.isNone),
    'aria-invalid': error ? true : undefined,
    'aria-describedby': error ? errorId : `${id}-help`,
    'data-param': param.name
  };
  const input = (
    <Control
      param={param}
      field={field}
      invalid={!!error}
      common={common}
      onChange={onChange}
    />
  );
  const help = (
    <span id={`${id}-help`} className="jp-mlops-field-help">
      {param.help ? `${param.help} · ` : ''}
      {trans.__('default: %1', param.default_source)}
    </span>
  );
  const noneToggle = param.nullable && (
    <label className="jp-mlops-none-toggle">
      <input
        type="checkbox"
        checked={field.isNone}
        disabled={props.disabled}
        onChange={e => onChange({ ...field, isNone: e.target.checked })}
      />
      None
    </label>
  );
  const label = (
    <label htmlFor={id} className="jp-mlops-field-label">
      <span className="jp-mlops-param-name">{param.name}</span>
      <span className="jp-mlops-param-type">{typeLabel(param)}</span>
    </label>
  );
  if (param.type_name === 'bool') {
    return (
      <div className="jp-mlops-field" data-param-row={param.name}>
        <div className="jp-mlops-field-control jp-mlops-bool">
          {input}
          {label}
          {noneToggle}
          {help}
        </div>
        <FieldError id={errorId} error={error} />
      </div>
    );
  }
  return (
    <div className="jp-mlops-field" data-param-row={param.name}>
      <div className="jp-mlops-field-head">
        {label}
        {help}
      </div>
      <div className="jp-mlops-field-control">
        {input}
        {noneToggle}
      </div>
      <FieldError id={errorId} error={error} />
    </div>
  );
}
