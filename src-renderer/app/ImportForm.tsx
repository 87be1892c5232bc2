import { useState, type FormEvent, type KeyboardEvent } from 'react';
import type { ApiError } from '../../src-shared/api.ts';
import { getBridge } from '../api/bridge.ts';
import { importPaths, parsePaths } from './import-actions.ts';

/**
 * The "Add" field: type or paste folder or archive paths (one per line) and
 * import them. Errors stay beside the field, with their code.
 */
export function ImportForm() {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const multi = text.includes('\n');
  const electron = getBridge().platform === 'electron';

  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    setNote(null);
    const outcome = await importPaths(parsePaths(text));
    setBusy(false);
    if (outcome.ok) {
      setText('');
      setNote(outcome.note);
    } else {
      setError(outcome.error);
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      void submit();
    } else if (e.key === 'Escape') {
      setError(null);
      setNote(null);
      if (multi) setText(text.split('\n')[0] ?? '');
    }
  };

  return (
    <form className="import" onSubmit={(e) => void submit(e)}>
      <label className="visually-hidden" htmlFor="import-path">
        Folder or archive paths to import, one per line
      </label>
      <textarea
        id="import-path"
        className={`field import-field${multi ? ' multi' : ''}`}
        data-testid="import-path"
        rows={multi ? Math.min(6, text.split('\n').length) : 1}
        spellCheck={false}
        autoComplete="off"
        placeholder={
          electron
            ? 'Paste a folder or .zip/.cbz path, or drop folders on the window'
            : 'Paste the path of a folder or .zip/.cbz archive (one per line)'
        }
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setError(null);
          setNote(null);
        }}
        onKeyDown={onKeyDown}
      />
      <button
        type="submit"
        className="btn btn-primary import-submit"
        data-testid="import-submit"
        disabled={busy || text.trim() === ''}
      >
        {busy ? 'Adding…' : 'Import'}
      </button>
      {error && (
        <div className="import-message error" role="alert" data-testid="import-error">
          <code>{error.code}</code>
          {error.message}
        </div>
      )}
      {!error && note && (
        <div className="import-message note" role="status" data-testid="import-note">
          {note}
        </div>
      )}
    </form>
  );
}
