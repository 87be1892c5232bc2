import { useAppStore } from '../store/index.ts';
import { loadFailedItems } from './jobs-actions.ts';

const STAGE_WORDS = { scan: 'scan', thumbnail: 'thumbnail', cache: 'view image' } as const;

/** A job's failed files, a page at a time: code, reason and path of each. */
export function FailedList({ jobId }: { jobId: number }) {
  const list = useAppStore((s) => s.failedLists[jobId]);
  if (!list) return null;
  return (
    <>
      <ul className="failed-list" data-testid="failed-list">
        {list.items.map((it) => (
          <li key={it.itemId} className="failed-item" data-testid="failed-item">
            <div className="failed-row">
              <span className="failed-code" data-testid="failed-code">
                {it.code}
              </span>
              <span className="failed-stage">{STAGE_WORDS[it.stage]}</span>
              {it.attempts > 1 && <span className="failed-stage">· {it.attempts} attempts</span>}
            </div>
            <div className="failed-message">{it.message}</div>
            <div className="failed-path" title={it.path}>{`\u2066${it.path}\u2069`}</div>
          </li>
        ))}
        {list.loading && list.items.length === 0 && <li className="failed-item">Loading…</li>}
      </ul>
      {list.hasMore && !list.loading && (
        <button
          className="btn btn-ghost btn-small failed-more"
          onClick={() => void loadFailedItems(jobId, true)}
        >
          Show more
        </button>
      )}
    </>
  );
}
