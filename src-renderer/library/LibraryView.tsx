import { useState } from 'react';
import { IMAGE_ORDERS, type ImageOrder } from '../../src-shared/domain.ts';
import type { CollectionView } from '../../src-shared/api.ts';
import { formatCount, watchLabel } from '../jobs/format.ts';
import { useAppStore } from '../store/index.ts';
import { rememberedSort, SORT_LABELS, type GridSort } from '../store/sort.ts';
import { EmptyState } from './EmptyState.tsx';
import { ThumbGrid } from './ThumbGrid.tsx';
import { removeCollection, rescanCollection, setCollectionWatch } from './library-actions.ts';

/**
 * Rescan and remove for the shown collection. Removing asks first, saying
 * what goes (the library's entries and previews) and what stays (the photos).
 */
function CollectionActions({ c }: { c: CollectionView }) {
  const confirming = useAppStore((s) => s.removeAskId === c.id);
  const setConfirming = (ask: boolean) => useAppStore.getState().askRemove(ask ? c.id : null);
  const [busy, setBusy] = useState(false);
  const watch = watchLabel(c);
  const watched = c.watched;
  if (confirming) {
    return (
      <div className="grid-actions confirm" role="alertdialog" aria-label="Remove collection">
        <span data-testid="remove-question">
          Remove “{c.name}” from the library? The previews of its {formatCount(c.imageCount)}{' '}
          {c.imageCount === 1 ? 'image' : 'images'} are deleted; the photos in {c.root} are not
          touched.
        </span>
        <button
          className="btn btn-small btn-danger"
          data-testid="remove-confirm"
          disabled={busy}
          onClick={() => {
            setBusy(true);
            void removeCollection(c.id).finally(() => {
              setBusy(false);
              setConfirming(false);
            });
          }}
        >
          Remove
        </button>
        <button
          className="btn btn-small btn-ghost"
          autoFocus
          onClick={() => setConfirming(false)}
          onKeyDown={(e) => e.key === 'Escape' && setConfirming(false)}
        >
          Keep
        </button>
      </div>
    );
  }
  return (
    <div className="grid-actions">
      <label
        className={`watch-toggle tone-${watch.tone}`}
        title={watch.title}
        data-testid="collection-watch"
        data-watch-state={c.watchState}
      >
        <input
          type="checkbox"
          checked={watched}
          disabled={c.watchState === 'offline'}
          onChange={(e) => void setCollectionWatch(c.id, e.target.checked)}
        />
        <span>{watched ? watch.text : 'Watch for changes'}</span>
      </label>
      {c.watch !== null && (
        <button
          className="btn btn-small btn-ghost"
          data-testid="collection-watch-default"
          title="Follow the watch setting in Settings, as new collections do"
          onClick={() => void setCollectionWatch(c.id, null)}
        >
          Use library setting
        </button>
      )}
      <button
        className="btn btn-small"
        data-testid="collection-rescan"
        title="Look for new, changed, moved and deleted photos"
        onClick={() => void rescanCollection(c.id)}
      >
        Rescan
      </button>
      <button
        className="btn btn-small btn-ghost"
        data-testid="collection-remove"
        title="Remove this collection from the library"
        onClick={() => setConfirming(true)}
      >
        Remove…
      </button>
    </div>
  );
}

/** Which way each order runs, in words: ascending first, then descending. */
const DIRECTION: Record<ImageOrder, [string, string]> = {
  taken: ['Oldest first', 'Newest first'],
  modified: ['Oldest first', 'Newest first'],
  name: ['A to Z', 'Z to A'],
  size: ['Smallest first', 'Largest first'],
};

/** The grid's order: by what, and which way; remembered per collection. */
function SortControl({ collectionId }: { collectionId: number }) {
  const chosen = useAppStore((s) => s.sorts[collectionId]);
  const sort = chosen ?? rememberedSort(collectionId);
  const setSort = (next: GridSort) => useAppStore.getState().setSort(collectionId, next);
  const way = DIRECTION[sort.order][sort.descending ? 1 : 0];
  return (
    <div className="grid-sort">
      <label className="grid-sort-label">
        <span>Sort by</span>
        <select
          className="field"
          data-testid="sort-order"
          value={sort.order}
          onChange={(e) => {
            const order = IMAGE_ORDERS.find((o) => o === e.target.value);
            if (order) setSort({ ...sort, order });
          }}
        >
          {IMAGE_ORDERS.map((o) => (
            <option key={o} value={o}>
              {SORT_LABELS[o]}
            </option>
          ))}
        </select>
      </label>
      <button
        className="btn btn-small btn-ghost"
        data-testid="sort-direction"
        title={`${way} (click to reverse)`}
        aria-label={`Order: ${way}. Reverse`}
        onClick={() => setSort({ ...sort, descending: !sort.descending })}
      >
        {sort.descending ? '↓' : '↑'} {way}
      </button>
    </div>
  );
}

/** The main area: the selected collection's heading and grid, or the empty state. */
export function LibraryView() {
  const loaded = useAppStore((s) => s.collectionsLoaded);
  const empty = useAppStore((s) => s.collections.length === 0);
  const selected = useAppStore((s) => s.collections.find((c) => c.id === s.selectedCollectionId));
  if (!loaded) return null;
  if (empty || !selected) return <EmptyState />;
  return (
    <>
      <div className="grid-head">
        <h1 className="grid-title">{selected.name}</h1>
        <span className="grid-sub num" title={selected.root}>
          {formatCount(selected.imageCount)} {selected.imageCount === 1 ? 'image' : 'images'} ·{' '}
          {selected.root}
        </span>
        <SortControl collectionId={selected.id} />
        <CollectionActions key={selected.id} c={selected} />
      </div>
      <ThumbGrid key={selected.id} collectionId={selected.id} />
    </>
  );
}
