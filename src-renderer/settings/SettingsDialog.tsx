import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { ApiError } from '../../src-shared/api.ts';
import type { Variant } from '../../src-shared/domain.ts';
import { SETTINGS_RANGES } from '../../src-shared/settings.ts';
import { getBridge } from '../api/bridge.ts';
import { CloseIcon } from '../app/icons.tsx';
import { useAppStore } from '../store/index.ts';
import { loadSettings, saveSettings } from './settings-actions.ts';
import {
  formFromSettings,
  formToPatch,
  isEmptyPatch,
  type FieldKey,
  type SettingsForm,
  type VariantForm,
} from './settings-form.ts';

function NumberField(p: {
  label: string;
  value: string;
  error: string | undefined;
  testId: string;
  suffix?: string;
  onChange: (v: string) => void;
}) {
  return (
    <label className="settings-field">
      <span>{p.label}</span>
      <input
        className={`field num${p.error ? ' invalid' : ''}`}
        inputMode="numeric"
        data-testid={p.testId}
        value={p.value}
        aria-invalid={!!p.error}
        onChange={(e) => p.onChange(e.target.value)}
      />
      {p.error && <span className="err">{p.error}</span>}
    </label>
  );
}

function CheckField(p: {
  label: string;
  checked: boolean;
  testId: string;
  onChange: (v: boolean) => void;
}) {
  return (
    <label className="settings-check">
      <input
        type="checkbox"
        data-testid={p.testId}
        checked={p.checked}
        onChange={(e) => p.onChange(e.target.checked)}
      />
      {p.label}
    </label>
  );
}

const VARIANT_TEXT: Record<Variant, { title: string; hint: string }> = {
  thumbnail: {
    title: 'Thumbnails',
    hint: 'The small previews in the grid. Each fits inside this box.',
  },
  cache: {
    title: 'View images',
    hint: 'What the viewer shows. Never larger than the original, never better quality than it.',
  },
};

/** Settings: output sizes, quality and format, worker count, tray behaviour. */
export function SettingsDialog() {
  const settings = useAppStore((s) => s.settings);
  const [form, setForm] = useState<SettingsForm | null>(
    settings ? formFromSettings(settings) : null,
  );
  const [errors, setErrors] = useState<Partial<Record<FieldKey, string>>>({});
  const [serverError, setServerError] = useState<ApiError | null>(null);
  const [saving, setSaving] = useState(false);
  const dialogRef = useRef<HTMLFormElement>(null);
  const electron = getBridge().platform === 'electron';
  const close = () => useAppStore.getState().setSettingsOpen(false);

  useEffect(() => {
    if (!settings) void loadSettings();
  }, [settings]);
  // Settings that arrive after opening fill an untouched form.
  if (settings && !form) setForm(formFromSettings(settings));

  useEffect(() => {
    dialogRef.current?.querySelector('input')?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        useAppStore.getState().setSettingsOpen(false);
      }
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, []);

  const setVariant = (v: Variant, key: keyof VariantForm, value: string) =>
    setForm((f) => (f ? { ...f, [v]: { ...f[v], [key]: value } } : f));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!form || !settings) return;
    const { patch, errors: errs } = formToPatch(form, settings);
    setErrors(errs);
    setServerError(null);
    if (Object.keys(errs).length) return;
    if (isEmptyPatch(patch)) return close();
    setSaving(true);
    const err = await saveSettings(patch);
    setSaving(false);
    if (err) setServerError(err);
    else close();
  };

  return (
    <div className="dialog-backdrop" onMouseDown={(e) => e.target === e.currentTarget && close()}>
      <form
        ref={dialogRef}
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="settings-title"
        data-testid="settings-dialog"
        onSubmit={(e) => void submit(e)}
      >
        <div className="dialog-head">
          <h2 id="settings-title" className="dialog-title">
            Settings
          </h2>
          <button
            type="button"
            className="btn btn-ghost btn-icon"
            aria-label="Close"
            onClick={close}
          >
            <CloseIcon />
          </button>
        </div>
        <div className="dialog-body">
          {serverError && (
            <div className="settings-error" role="alert" data-testid="settings-error">
              <code>{serverError.code}</code>
              {serverError.message}
            </div>
          )}
          {!form ? (
            <div className="spinner" />
          ) : (
            <>
              {(['thumbnail', 'cache'] as const).map((v) => (
                <fieldset className="settings-group" key={v}>
                  <legend>{VARIANT_TEXT[v].title}</legend>
                  <p className="hint">{VARIANT_TEXT[v].hint}</p>
                  <div className="settings-row">
                    <NumberField
                      label="Max width (px)"
                      value={form[v].maxWidth}
                      error={errors[`${v}.maxWidth`]}
                      testId={`settings-${v}-width`}
                      onChange={(x) => setVariant(v, 'maxWidth', x)}
                    />
                    <NumberField
                      label="Max height (px)"
                      value={form[v].maxHeight}
                      error={errors[`${v}.maxHeight`]}
                      testId={`settings-${v}-height`}
                      onChange={(x) => setVariant(v, 'maxHeight', x)}
                    />
                    <NumberField
                      label={`Quality (${SETTINGS_RANGES.quality.min}–${SETTINGS_RANGES.quality.max})`}
                      value={form[v].quality}
                      error={errors[`${v}.quality`]}
                      testId={`settings-${v}-quality`}
                      onChange={(x) => setVariant(v, 'quality', x)}
                    />
                    <label className="settings-field">
                      <span>Format</span>
                      <select
                        className="field"
                        data-testid={`settings-${v}-format`}
                        value={form[v].format}
                        onChange={(e) =>
                          setVariant(v, 'format', e.target.value === 'webp' ? 'webp' : 'jpeg')
                        }
                      >
                        <option value="jpeg">JPEG</option>
                        <option value="webp">WebP</option>
                      </select>
                    </label>
                  </div>
                </fieldset>
              ))}
              <fieldset className="settings-group">
                <legend>Processing</legend>
                <p className="hint">
                  Worker threads that make images. 0 picks one per processor core.
                </p>
                <div className="settings-row">
                  <NumberField
                    label="Workers"
                    value={form.workers}
                    error={errors.workers}
                    testId="settings-workers"
                    onChange={(x) => setForm((f) => (f ? { ...f, workers: x } : f))}
                  />
                </div>
                <CheckField
                  label="Watch collections for changes, and rescan them at start"
                  checked={form.watchFolders}
                  testId="settings-watch"
                  onChange={(x) => setForm((f) => (f ? { ...f, watchFolders: x } : f))}
                />
                <p className="hint">
                  New, changed, moved and deleted photos show up by themselves. A collection’s own
                  setting (its context menu) comes first.
                </p>
              </fieldset>
              <fieldset className="settings-group" disabled={!electron}>
                <legend>Desktop</legend>
                <CheckField
                  label="Keep processing in the tray when the window is closed"
                  checked={form.keepRunningInTray}
                  testId="settings-tray"
                  onChange={(x) => setForm((f) => (f ? { ...f, keepRunningInTray: x } : f))}
                />
                {!electron && <p className="hint">Only in the desktop app.</p>}
              </fieldset>
            </>
          )}
        </div>
        <div className="dialog-foot">
          <span className="grow">Changed sizes or formats remake outputs on the next run.</span>
          <button type="button" className="btn btn-ghost" onClick={close}>
            Cancel
          </button>
          <button
            type="submit"
            className="btn btn-primary"
            data-testid="settings-save"
            disabled={!form || saving}
          >
            {saving ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
    </div>
  );
}
