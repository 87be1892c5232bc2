import { memo, useState } from 'react';
import type { CollectionView } from '../../src-shared/api.ts';
import {
  ContextMenu,
  anchorBeside,
  isMenuKey,
  type MenuAnchor,
  type MenuItem,
} from '../app/ContextMenu.tsx';
import { ArchiveIcon, FolderIcon } from '../app/icons.tsx';
import { collectionState, formatCount, watchLabel } from '../jobs/format.ts';
import { useAppStore } from '../store/index.ts';
import { rescanCollection, selectCollection, setCollectionWatch } from './library-actions.ts';

/** What can be done to a collection from its context menu. */
function collectionMenu(c: CollectionView): MenuItem[] {
  const watched = c.watched;
  const watch = watchLabel(c);
  return [
    {
      id: 'rescan',
      label: 'Rescan',
      hint: 'Look for new, changed, moved and deleted photos',
      onSelect: () => void rescanCollection(c.id),
    },
    {
      id: 'watch',
      label: 'Watch for changes',
      checked: watched,
      hint: !watched
        ? 'Changes show up after a rescan'
        : c.watchState === 'polling'
          ? watch.title
          : 'Changes on disk show up by themselves',
      onSelect: () => void setCollectionWatch(c.id, !watched),
    },
    ...(c.watch === null
      ? []
      : [
          {
            id: 'watch-default',
            label: 'Use the library’s watch setting',
            hint: 'Follow the watch setting in Settings',
            onSelect: () => void setCollectionWatch(c.id, null),
          },
        ]),
    {
      id: 'remove',
      label: 'Remove from library…',
      danger: true,
      onSelect: () => {
        selectCollection(c.id);
        useAppStore.getState().askRemove(c.id);
      },
    },
  ];
}

const CollectionItem = memo(function CollectionItem({ id }: { id: number }) {
  const c = useAppStore((s) => s.collections.find((x) => x.id === id));
  const job = useAppStore((s) => (c?.job ? s.jobs[c.job.id] : undefined));
  const selected = useAppStore((s) => s.selectedCollectionId === id);
  const [menu, setMenu] = useState<MenuAnchor | null>(null);
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
        aria-haspopup="menu"
        onClick={() => selectCollection(c.id)}
        onContextMenu={(e) => {
          e.preventDefault();
          setMenu({ x: e.clientX, y: e.clientY, returnFocus: e.currentTarget });
        }}
        onKeyDown={(e) => {
          if (!isMenuKey(e)) return;
          e.preventDefault();
          setMenu(anchorBeside(e.currentTarget));
        }}
      >
        <Icon className="collection-icon" size={18} />
        <span className="collection-name">{c.name}</span>
        <span className="collection-count num">{formatCount(c.imageCount)}</span>
        <span className={`collection-state tone-${state.tone}`} data-testid="collection-state">
          {c.watchState === 'polling' && (
            <span className="collection-watch tone-warn" title={watchLabel(c).title}>
              ⟳{' '}
            </span>
          )}
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
      {menu && (
        <ContextMenu
          anchor={menu}
          label={`Collection ${c.name}`}
          items={collectionMenu(c)}
          onClose={() => setMenu(null)}
        />
      )}
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
