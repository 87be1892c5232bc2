import { useState } from 'react';
import type { ImageView } from '../../src-shared/api.ts';
import { useAppStore } from '../store/index.ts';
import { infoRows } from './info.ts';

/** Puts text on the clipboard; false where the page may not (no secure context). */
async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The viewer's info panel (I): what the library recorded of the image shown,
 * the file's folder with its full path to copy.
 */
export function InfoPanel({ image }: { image: ImageView | undefined }) {
  const collection = useAppStore((s) => s.collections.find((c) => c.id === image?.collectionId));
  const [copied, setCopied] = useState<string | null>(null);
  const rows = image ? infoRows(image, collection) : [];
  return (
    <aside className="viewer-info-panel" data-testid="viewer-info" aria-label="Image information">
      <h2 className="viewer-info-title">Info</h2>
      <dl className="viewer-info-list">
        {rows.map((r) => (
          <div
            key={r.label}
            className="viewer-info-row"
            data-testid={`info-${r.label.toLowerCase()}`}
          >
            <dt>{r.label}</dt>
            <dd>
              <span className="viewer-info-value" title={r.copy ?? r.value}>
                {r.value}
              </span>
              {r.copy && (
                <button
                  className="btn btn-small btn-ghost"
                  data-testid={`copy-${r.label.toLowerCase()}`}
                  title={`Copy ${r.copy}`}
                  onClick={() => {
                    const text = r.copy ?? '';
                    void copyText(text).then((ok) => setCopied(ok ? r.label : `!${r.label}`));
                  }}
                >
                  {copied === r.label
                    ? 'Copied'
                    : copied === `!${r.label}`
                      ? 'Cannot copy'
                      : 'Copy'}
                </button>
              )}
            </dd>
          </div>
        ))}
      </dl>
    </aside>
  );
}
