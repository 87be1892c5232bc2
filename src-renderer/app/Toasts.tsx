import { useEffect } from 'react';
import { useAppStore } from '../store/index.ts';
import type { Toast } from '../store/notices-slice.ts';
import { CloseIcon } from './icons.tsx';

/** How long information (not errors) stays; errors stay until dismissed. */
const INFO_MS = 8000;

function ToastItem({ toast }: { toast: Toast }) {
  const dismiss = (id: number) => useAppStore.getState().dismissToast(id);
  useEffect(() => {
    if (toast.level !== 'info') return;
    const t = setTimeout(() => useAppStore.getState().dismissToast(toast.id), INFO_MS);
    return () => clearTimeout(t);
  }, [toast.id, toast.level, toast.count]);
  return (
    <div
      className={`toast ${toast.level}`}
      role={toast.level === 'error' ? 'alert' : 'status'}
      data-testid="toast"
      data-level={toast.level}
    >
      <div className="toast-body">
        <div className="toast-title">
          {toast.title}
          {toast.count > 1 && <span className="toast-count">×{toast.count}</span>}
        </div>
        <div className="toast-message">{toast.message}</div>
      </div>
      <button
        className="btn btn-ghost btn-icon btn-small"
        aria-label="Dismiss"
        data-testid="toast-dismiss"
        onClick={() => dismiss(toast.id)}
      >
        <CloseIcon size={14} />
      </button>
    </div>
  );
}

/** The notification area: every error the UI met, until dismissed. */
export function Toasts() {
  const toasts = useAppStore((s) => s.toasts);
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <ToastItem key={t.id} toast={t} />
      ))}
    </div>
  );
}
