import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type {
  ApiError,
  CacheFolderView,
  CacheReport,
  ReconcileReportView,
  StaleView,
} from '../../src-shared/api.ts';
import { call, callRaw } from '../api/call.ts';
import { CloseIcon } from '../app/icons.tsx';
import { formatCount } from '../jobs/format.ts';
import { loadJobs } from '../jobs/jobs-actions.ts';
import { useAppStore } from '../store/index.ts';
import { formatBytes } from '../../src-shared/format-bytes.ts';
import { formatAgo, limitToGb, parseLimitGb } from './format-bytes.ts';

/** How often usage is refreshed while the dialog is open (jobs keep writing). */
const REFRESH_MS = 5000;

const STATE_TEXT: Record<CacheFolderView['state'], { text: string; tone: string }> = {
  ok: { text: 'In use', tone: 'ok' },
  full: { text: 'Full', tone: 'warn' },
  disabled: { text: 'Disabled', tone: 'muted' },
  missing: { text: 'Missing', tone: 'error' },
};

function InlineError({ error }: { error: ApiError | string | null }) {
  if (!error) return null;
  return (
    <div className="settings-error" role="alert" data-testid="cache-error">
      {typeof error === 'string' ? (
        error
      ) : (
        <>
          <code>{error.code}</code>
          {error.message}
        </>
      )}
    </div>
  );
}

function FolderCard({
  folder,
  others,
  now,
  onChanged,
}: {
  folder: CacheFolderView;
  others: CacheFolderView[];
  /** When the statistics were fetched. */
  now: number;
  onChanged: () => void;
}) {
  const [limit, setLimit] = useState(limitToGb(folder.limitBytes));
  const [error, setError] = useState<ApiError | string | null>(null);
  const [removing, setRemoving] = useState(false);
  const [moveTo, setMoveTo] = useState<string>(others[0] ? String(others[0].id) : '');
  const [busy, setBusy] = useState(false);
  const state = STATE_TEXT[folder.state];
  const capacity =
    folder.limitBytes ??
    (folder.diskBytes !== null ? folder.bytes + (folder.freeBytes ?? 0) : null);
  const used = capacity ? Math.min(1, folder.bytes / capacity) : 0;

  const run = async (f: () => Promise<{ ok: boolean; error?: ApiError }>) => {
    setBusy(true);
    setError(null);
    const r = await f();
    setBusy(false);
    if (!r.ok && r.error) setError(r.error);
    else onChanged();
  };

  const saveLimit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseLimitGb(limit);
    if ('error' in parsed) return setError(parsed.error);
    void run(() => callRaw('updateCacheFolder', { id: folder.id, limitBytes: parsed.bytes }));
  };

  return (
    <div
      className="cache-folder"
      data-testid="cache-folder"
      data-state={folder.state}
      data-path={folder.path}
      data-files={folder.files}
      data-bytes={folder.bytes}
    >
      <div className="cache-folder-head">
        <span className="cache-path" title={folder.path}>
          {folder.path}
        </span>
        <span className={`chip tone-${state.tone}`}>{state.text}</span>
      </div>
      <div className="cache-bar" title={capacity ? `${Math.round(used * 100)}% used` : undefined}>
        <span
          className={folder.state === 'full' ? 'full' : ''}
          style={{ width: `${used * 100}%` }}
        />
      </div>
      <div className="cache-stats num">
        <span>
          <strong>{formatBytes(folder.bytes)}</strong>
          {folder.limitBytes !== null && <> of {formatBytes(folder.limitBytes)} limit</>}
        </span>
        <span>{formatCount(folder.files)} files</span>
        <span>
          {formatCount(folder.collections)}{' '}
          {folder.collections === 1 ? 'collection' : 'collections'}
        </span>
        {folder.freeBytes !== null && <span>{formatBytes(folder.freeBytes)} free on disk</span>}
        <span>last written {formatAgo(folder.lastGeneratedAt, now)}</span>
        <span>cleaned {formatAgo(folder.lastCleanupAt, now)}</span>
      </div>
      <div className="cache-controls">
        <label className="settings-check">
          <input
            type="checkbox"
            checked={folder.enabled}
            disabled={busy}
            data-testid="cache-enabled"
            onChange={(e) =>
              void run(() =>
                callRaw('updateCacheFolder', { id: folder.id, enabled: e.target.checked }),
              )
            }
          />
          Store new outputs here
        </label>
        <form className="cache-limit" onSubmit={saveLimit}>
          <span>Limit</span>
          <input
            className="field num"
            value={limit}
            placeholder="none"
            aria-label="Size limit in GB"
            data-testid="cache-limit"
            onChange={(e) => setLimit(e.target.value)}
          />
          <span>GB</span>
          <button
            className="btn btn-small"
            disabled={busy || limit === limitToGb(folder.limitBytes)}
            data-testid="cache-limit-save"
          >
            Set
          </button>
        </form>
        <span className="grow" />
        {!removing && (
          <button className="btn btn-ghost btn-small" onClick={() => setRemoving(true)}>
            Remove…
          </button>
        )}
      </div>
      {removing && (
        <div className="cache-remove">
          <span>Its files</span>
          <select className="field" value={moveTo} onChange={(e) => setMoveTo(e.target.value)}>
            {others.map((o) => (
              <option key={o.id} value={String(o.id)}>
                move to {o.path}
              </option>
            ))}
            <option value="">are deleted (made again by a job)</option>
          </select>
          <button
            className="btn btn-small danger"
            disabled={busy}
            data-testid="cache-remove"
            onClick={() =>
              void run(() =>
                callRaw('removeCacheFolder', {
                  id: folder.id,
                  moveTo: moveTo === '' ? null : Number(moveTo),
                }),
              )
            }
          >
            Remove folder
          </button>
          <button className="btn btn-ghost btn-small" onClick={() => setRemoving(false)}>
            Keep
          </button>
        </div>
      )}
      <InlineError error={error} />
    </div>
  );
}

type Check = 'reconcile' | 'cleanup' | 'rebalance';

/** How many files a preview names before summing up the rest. */
const PREVIEW_PATHS = 20;

const CHECKS: Record<Check, { title: string; text: string; apply: string }> = {
  reconcile: {
    title: 'Check against the library',
    text: 'Finds outputs whose file is gone (they are made again) and files nothing refers to (they are deleted).',
    apply: 'Repair',
  },
  cleanup: {
    title: 'Clean up unused files',
    text: 'Deletes files no image uses any more, such as outputs of removed settings, older than a week.',
    apply: 'Delete',
  },
  rebalance: {
    title: 'Rebalance',
    text: 'Moves outputs that sit outside their collection’s folder back into it.',
    apply: 'Move',
  },
};

function describe(check: Check, r: CacheReport | ReconcileReportView): string {
  const files = `${formatCount(r.files)} ${r.files === 1 ? 'file' : 'files'} (${formatBytes(r.bytes)})`;
  const done = !r.dryRun;
  switch (check) {
    case 'reconcile': {
      const missing = 'missing' in r ? r.missing.length : 0;
      return `${done ? 'Repaired: ' : ''}${formatCount(missing)} missing ${missing === 1 ? 'output' : 'outputs'}, ${files} not in the library.`;
    }
    case 'cleanup':
      return done ? `Deleted ${files}.` : `${files} can be deleted.`;
    case 'rebalance':
      return done ? `Moved ${files}.` : `${files} can be moved.`;
  }
}

function needsApply(r: CacheReport | ReconcileReportView): boolean {
  return r.dryRun && (r.files > 0 || ('missing' in r && r.missing.length > 0));
}

function MaintenanceRow({ check, onChanged }: { check: Check; onChanged: () => void }) {
  const [report, setReport] = useState<CacheReport | ReconcileReportView | null>(null);
  const [busy, setBusy] = useState(false);
  const runIt = async (dryRun: boolean) => {
    setBusy(true);
    const r =
      check === 'reconcile'
        ? await call('reconcileCache', { dryRun })
        : check === 'cleanup'
          ? await call('cleanupCache', { dryRun })
          : await call('rebalanceCache', { dryRun });
    setBusy(false);
    if (r) setReport(r);
    if (!dryRun) onChanged();
  };
  const c = CHECKS[check];
  return (
    <div className="cache-check" data-testid={`cache-${check}`}>
      <div className="cache-check-text">
        <div className="cache-check-title">{c.title}</div>
        <div className="cache-check-desc">{c.text}</div>
        {report && (
          <div className="cache-check-result" data-testid="cache-check-result">
            {describe(check, report)}
          </div>
        )}
        {report && report.dryRun && report.paths.length > 0 && (
          <ul className="cache-preview" data-testid="cache-preview">
            {report.paths.slice(0, PREVIEW_PATHS).map((p) => (
              <li key={p} className="mono" data-testid="cache-preview-path" title={p}>
                {p}
              </li>
            ))}
            {report.paths.length > PREVIEW_PATHS && (
              <li className="cache-preview-more">
                … and {formatCount(report.paths.length - PREVIEW_PATHS)} more
              </li>
            )}
          </ul>
        )}
      </div>
      <div className="cache-check-actions">
        <button className="btn btn-small" disabled={busy} onClick={() => void runIt(true)}>
          {busy ? 'Checking…' : 'Check'}
        </button>
        {report && needsApply(report) && (
          <button
            className="btn btn-small btn-primary"
            disabled={busy}
            onClick={() => void runIt(false)}
          >
            {c.apply}
          </button>
        )}
      </div>
    </div>
  );
}

function StaleSection({ stale, onChanged }: { stale: StaleView | null; onChanged: () => void }) {
  const [busy, setBusy] = useState(false);
  if (!stale) return null;
  const remake = async (collectionId?: number) => {
    setBusy(true);
    const jobs = await call('regenerateStale', collectionId === undefined ? {} : { collectionId });
    setBusy(false);
    if (jobs) {
      useAppStore.getState().upsertJobs(jobs);
      void loadJobs();
    }
    onChanged();
  };
  return (
    <div className="cache-check" data-testid="cache-stale">
      <div className="cache-check-text">
        <div className="cache-check-title">Outputs made with older settings</div>
        {stale.files === 0 ? (
          <div className="cache-check-desc">None: every output matches the current settings.</div>
        ) : (
          <>
            <div className="cache-check-desc">
              {formatCount(stale.files)} files ({formatBytes(stale.bytes)}) were made with other
              sizes or formats. Remaking them starts a job per collection.
            </div>
            <ul className="cache-stale-list">
              {stale.byCollection.map((c) => (
                <li key={c.collectionId}>
                  <span>{c.name}</span>
                  <span className="num">
                    {formatCount(c.files)} files · {formatBytes(c.bytes)}
                  </span>
                  <button
                    className="btn btn-ghost btn-small"
                    disabled={busy}
                    onClick={() => void remake(c.collectionId)}
                  >
                    Remake
                  </button>
                </li>
              ))}
            </ul>
          </>
        )}
      </div>
      {stale.files > 0 && (
        <div className="cache-check-actions">
          <button
            className="btn btn-small btn-primary"
            disabled={busy}
            onClick={() => void remake()}
          >
            Remake all
          </button>
        </div>
      )}
    </div>
  );
}

/** The cache folders: usage and limits, adding and removing folders, maintenance. */
export function CacheDialog() {
  const [folders, setFolders] = useState<CacheFolderView[] | null>(null);
  const [fetchedAt, setFetchedAt] = useState(0);
  const [stale, setStale] = useState<StaleView | null>(null);
  const [path, setPath] = useState('');
  const [limit, setLimit] = useState('');
  const [addError, setAddError] = useState<ApiError | string | null>(null);
  const close = () => useAppStore.getState().setCacheOpen(false);

  const refresh = useCallback(async () => {
    const [list, st] = await Promise.all([call('listCacheFolders', {}), call('staleOutputs', {})]);
    if (list) {
      setFolders(list);
      setFetchedAt(Date.now());
    }
    if (st) setStale(st);
  }, []);

  useEffect(() => {
    // Loading is kicked off here; the answers arrive asynchronously.
    const first = setTimeout(() => void refresh(), 0);
    const t = setInterval(() => void refresh(), REFRESH_MS);
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        useAppStore.getState().setCacheOpen(false);
      }
    };
    window.addEventListener('keydown', onKey, true);
    return () => {
      clearTimeout(first);
      clearInterval(t);
      window.removeEventListener('keydown', onKey, true);
    };
  }, [refresh]);

  const add = async (e: FormEvent) => {
    e.preventDefault();
    setAddError(null);
    const parsed = parseLimitGb(limit);
    if ('error' in parsed) return setAddError(parsed.error);
    const r = await callRaw('addCacheFolder', { path: path.trim(), limitBytes: parsed.bytes });
    if (!r.ok) return setAddError(r.error);
    setPath('');
    setLimit('');
    void refresh();
  };

  const changed = () => void refresh();

  return (
    <div className="dialog-backdrop" onMouseDown={(e) => e.target === e.currentTarget && close()}>
      <div
        className="dialog dialog-wide"
        role="dialog"
        aria-modal="true"
        aria-labelledby="cache-title"
        data-testid="cache-dialog"
      >
        <div className="dialog-head">
          <h2 id="cache-title" className="dialog-title">
            Cache
          </h2>
          <button className="btn btn-ghost btn-icon" aria-label="Close" onClick={close}>
            <CloseIcon />
          </button>
        </div>
        <div className="dialog-body">
          <section className="settings-group">
            <h3 className="cache-h">Folders</h3>
            <p className="hint">
              Where thumbnails and view images are written. Each collection keeps its outputs in one
              folder; a full folder pauses jobs until there is room.
            </p>
            {!folders && <div className="spinner" />}
            {folders?.map((f) => (
              <FolderCard
                key={`${f.id}:${f.limitBytes ?? ''}`}
                folder={f}
                others={folders.filter((o) => o.id !== f.id && o.enabled)}
                now={fetchedAt}
                onChanged={changed}
              />
            ))}
            <form className="cache-add" onSubmit={(e) => void add(e)}>
              <input
                className="field cache-add-path"
                placeholder="Path of another folder for the cache"
                value={path}
                data-testid="cache-add-path"
                onChange={(e) => setPath(e.target.value)}
              />
              <input
                className="field num cache-add-limit"
                placeholder="Limit GB"
                value={limit}
                aria-label="Size limit in GB (optional)"
                onChange={(e) => setLimit(e.target.value)}
              />
              <button className="btn" disabled={path.trim() === ''} data-testid="cache-add">
                Add folder
              </button>
            </form>
            <InlineError error={addError} />
          </section>
          <section className="settings-group">
            <h3 className="cache-h">Maintenance</h3>
            <MaintenanceRow check="reconcile" onChanged={changed} />
            <MaintenanceRow check="cleanup" onChanged={changed} />
            <MaintenanceRow check="rebalance" onChanged={changed} />
            <StaleSection stale={stale} onChanged={changed} />
          </section>
        </div>
      </div>
    </div>
  );
}
