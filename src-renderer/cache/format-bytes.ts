/** A limit typed in gigabytes ("" for none) → bytes, or an error text. */
export function parseLimitGb(text: string): { bytes: number | null } | { error: string } {
  const t = text.trim();
  if (t === '') return { bytes: null };
  if (!/^\d+(\.\d+)?$/.test(t))
    return { error: 'Enter a size in GB, or leave it empty for no limit.' };
  const bytes = Math.round(Number(t) * 1024 ** 3);
  if (bytes < 1) return { error: 'The limit must be more than 0 GB.' };
  return { bytes };
}

/** Bytes → the text of a GB field ("" for none). */
export function limitToGb(bytes: number | null): string {
  if (bytes === null) return '';
  const gb = bytes / 1024 ** 3;
  return String(Math.round(gb * 100) / 100);
}

/** "3 days ago", "just now", "never". */
export function formatAgo(time: number | null, now: number): string {
  if (time === null) return 'never';
  const s = Math.max(0, Math.round((now - time) / 1000));
  if (s < 60) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}
