import { memo } from 'react';
import { ArchiveIcon, FolderIcon } from '../app/icons.tsx';
import { collectionState, formatCount } from '../jobs/format.ts';
import { useAppStore } from '../store/index.ts';
import { selectCollection } from './library-actions.ts';

const CollectionItem = memo(function CollectionItem({ id }: { id: number }) {
  const c = useAppStore((s) => s.collections.find((x) => x.id === id));
  const job = useAppStore((s) => (c?.job ? s.jobs[c.job.id] : undefined));
  const selected = useAppStore((s) => s.selectedCollectionId === id);
  if (!c) return null;
  const state = collectionState(c, job);
  const Icon = c.kind === 'archive' ? ArchiveIcon : FolderIcon;
  const running = c.job?.status === 'running' || c.job?.status === 'queued';
  return (
    <li>
      <button
        className="collection"
        data-testid="collection"
        data-collection-id={c.id}
        aria-current={selected}
        title={c.root}
        onClick={() => selectCollection(c.id)}
      >
        <Icon className="collection-icon" size={18} />
        <span className="collection-name">{c.name}</span>
        <span className="collection-count num">{formatCount(c.imageCount)}</span>
        <span className={`collection-state tone-${state.tone}`} data-testid="collection-state">
          {state.text}
        </span>
        {running && (
          <span className={`collection-progress${state.progress === null ? ' indeterminate' : ''}`}>
            <div
              style={state.progress === null ? undefined : { width: `${state.progress * 100}%` }}
            />
          </span>
        )}
      </button>
    </li>
  );
});

/** The library: every collection with its image count and the state of its newest job. */
export function Sidebar() {
  const ids = useAppStore((s) => s.collections.map((c) => c.id).join(','));
  const loaded = useAppStore((s) => s.collectionsLoaded);
  const list = ids ? ids.split(',').map(Number) : [];
  return (
    <nav className="sidebar" aria-label="Library">
      <div className="sidebar-head">
        <span>Library</span>
        {list.length > 0 && <span className="num">{list.length}</span>}
      </div>
      {loaded && list.length === 0 && (
        <div className="sidebar-empty">No collections yet. Add a folder to start.</div>
      )}
      <ul className="sidebar-list">
        {list.map((id) => (
          <CollectionItem key={id} id={id} />
        ))}
      </ul>
    </nav>
  );
}
