/**
 * The fields of our forms (Run as job, Schedule): a labelled control with
 * its help line and its inline error, written once so every form looks and
 * reads (for assistive technology) the same.
 */
import * as React from 'react';

/** An inline validation message under a form field (announced when it appears). */
export function FieldError(props: {
  id?: string;
  error?: string | null;
}): JSX.Element | null {
  if (!props.error) {
    return null;
  }
  return (
    <div id={props.id} className="jp-mlops-field-error" role="alert">
      {props.error}
    </div>
  );
}

/**
 * A labelled form field: the label (for the control with `id`), the control,
 * then its help line and its error, with the styles of every form of ours;
 * `after` comes below the error (more lines about the value).
 */
export function Field(props: {
  id: string;
  label: React.ReactNode;
  error?: string | null;
  help?: React.ReactNode;
  after?: React.ReactNode;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <div className="jp-mlops-field">
      <label htmlFor={props.id} className="jp-mlops-field-label">
        {props.label}
      </label>
      {props.children}
      {props.help ? (
        <div className="jp-mlops-field-help">{props.help}</div>
      ) : null}
      <FieldError error={props.error} />
      {props.after}
    </div>
  );
}

/** The classes of a text input or select, marked invalid when it has an error. */
export function inputClass(error?: string | null, extra = ''): string {
  return `jp-mod-styled jp-mlops-input${extra ? ` ${extra}` : ''}${error ? ' jp-mlops-invalid' : ''}`;
}

/** A labelled one-line text input. */
export function TextField(props: {
  id: string;
  label: React.ReactNode;
  value: string;
  onChange: (value: string) => void;
  error?: string | null;
  help?: React.ReactNode;
  placeholder?: string;
  inputMode?: 'numeric' | 'decimal';
  spellCheck?: boolean;
  /** Id of a `datalist` of suggestions (given as `children`). */
  list?: string;
  children?: React.ReactNode;
}): JSX.Element {
  // What is left (id, label, error, help) is the Field's.
  const {
    value,
    onChange,
    placeholder,
    inputMode,
    spellCheck,
    list,
    children,
    ...field
  } = props;
  return (
    <Field {...field}>
      <input
        id={field.id}
        type="text"
        inputMode={inputMode}
        list={list}
        spellCheck={spellCheck}
        className={inputClass(field.error)}
        placeholder={placeholder}
        value={value}
        onChange={e => onChange(e.target.value)}
      />
      {children}
    </Field>
  );
}

/** The keys of a form's state that hold free text (not a union of choices). */
type TextKey<S> = {
  [K in keyof S]-?: string extends S[K]
    ? S[K] extends string
      ? K
      : never
    : never;
}[keyof S];

/** The props that bind a `TextField` to one text of a form's state. */
export interface ITextBinding {
  value: string;
  onChange: (value: string) => void;
  error?: string;
}

/**
 * Binds a form's text fields to its state: `bind(key)` gives the text of
 * `state[key]`, the change that sets it, and its problem (`errors` under
 * `errorKeys[key]`), so that each field is `<TextField ... {...bind(key)} />`.
 */
export function textBinder<S>(
  state: S,
  set: (patch: Partial<S>) => void,
  errors: Record<string, string>,
  errorKeys: { readonly [K in keyof S]?: string }
): (key: TextKey<S>) => ITextBinding {
  return key => {
    const errorKey = errorKeys[key];
    return {
      value: state[key] as unknown as string,
      onChange: value => set({ [key]: value } as unknown as Partial<S>),
      error: errorKey === undefined ? undefined : errors[errorKey]
    };
  };
}

/** A labelled drop-down of fixed choices. */
export function SelectField<T extends string>(props: {
  id: string;
  label: React.ReactNode;
  value: T;
  options: ReadonlyArray<{ value: T; label: string }>;
  onChange: (value: T) => void;
  title?: string;
}): JSX.Element {
  return (
    <Field id={props.id} label={props.label}>
      <select
        id={props.id}
        title={props.title}
        className={inputClass()}
        value={props.value}
        onChange={e => props.onChange(e.target.value as T)}
      >
        {props.options.map(option => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </Field>
  );
}

/** A checkbox with its label text after it. */
export function CheckboxField(props: {
  id?: string;
  label: React.ReactNode;
  checked: boolean;
  onChange: (checked: boolean) => void;
}): JSX.Element {
  return (
    <label className="jp-mlops-checkbox-label">
      <input
        id={props.id}
        type="checkbox"
        checked={props.checked}
        onChange={e => props.onChange(e.target.checked)}
      />
      {props.label}
    </label>
  );
}
