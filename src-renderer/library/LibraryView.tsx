import { formatCount } from '../jobs/format.ts';
import { useAppStore } from '../store/index.ts';
import { EmptyState } from './EmptyState.tsx';
import { ThumbGrid } from './ThumbGrid.tsx';

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
      </div>
      <ThumbGrid key={selected.id} collectionId={selected.id} />
    </>
  );
}
