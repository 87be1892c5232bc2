import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react';

export interface MenuItem {
  id: string;
  label: string;
  onSelect: () => void;
  /** A toggle: shown with a check mark when true. */
  checked?: boolean;
  danger?: boolean;
  disabled?: boolean;
  /** A line of detail under the label (why a toggle is in its state). */
  hint?: string;
}

/** Where a menu opens: at the pointer, or (from the keyboard) beside an element. */
export type MenuAnchor = { x: number; y: number; returnFocus: HTMLElement | null };

/** The anchor for a context menu opened on `el` from the keyboard (menu key, Shift+F10). */
export function anchorBeside(el: HTMLElement): MenuAnchor {
  const r = el.getBoundingClientRect();
  return { x: r.left + 24, y: r.top + r.height / 2, returnFocus: el };
}

/** True for the keys that open a context menu from the keyboard. */
export function isMenuKey(e: { key: string; shiftKey: boolean }): boolean {
  return e.key === 'ContextMenu' || (e.shiftKey && e.key === 'F10');
}

/**
 * A context menu: opens at its anchor (kept inside the window), takes the
 * focus, moves with the arrow keys, Home and End, chooses with Enter or Space,
 * closes with Escape, Tab or a click elsewhere, and gives the focus back.
 */
export function ContextMenu({
  anchor,
  items,
  label,
  onClose,
}: {
  anchor: MenuAnchor;
  items: MenuItem[];
  label: string;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [pos, setPos] = useState({ left: anchor.x, top: anchor.y });
  const enabled = items.filter((i) => !i.disabled);

  const close = (refocus = true) => {
    onClose();
    if (refocus) anchor.returnFocus?.focus();
  };

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const r = el.getBoundingClientRect();
    const left = Math.max(4, Math.min(anchor.x, window.innerWidth - r.width - 4));
    const top = Math.max(4, Math.min(anchor.y, window.innerHeight - r.height - 4));
    setPos({ left, top });
    el.querySelector<HTMLElement>('[role^="menuitem"]:not([aria-disabled="true"])')?.focus();
  }, [anchor.x, anchor.y]);

  useEffect(() => {
    const onDown = (e: MouseEvent) => {
      if (!ref.current?.contains(e.target as Node)) close(false);
    };
    const onBlur = () => close(false);
    document.addEventListener('mousedown', onDown, true);
    window.addEventListener('blur', onBlur);
    window.addEventListener('resize', onBlur);
    return () => {
      document.removeEventListener('mousedown', onDown, true);
      window.removeEventListener('blur', onBlur);
      window.removeEventListener('resize', onBlur);
    };
  });

  const move = (delta: number | 'first' | 'last') => {
    const nodes = [
      ...(ref.current?.querySelectorAll<HTMLElement>(
        '[role^="menuitem"]:not([aria-disabled="true"])',
      ) ?? []),
    ];
    if (!nodes.length) return;
    const at = nodes.indexOf(document.activeElement as HTMLElement);
    const next =
      delta === 'first'
        ? 0
        : delta === 'last'
          ? nodes.length - 1
          : (at + delta + nodes.length) % nodes.length;
    nodes[next]?.focus();
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const keys: Record<string, () => void> = {
      ArrowDown: () => move(1),
      ArrowUp: () => move(-1),
      Home: () => move('first'),
      End: () => move('last'),
      Escape: () => close(),
      Tab: () => close(),
    };
    const act = keys[e.key];
    if (act) {
      e.preventDefault();
      e.stopPropagation();
      act();
    }
  };

  const choose = (item: MenuItem) => {
    if (item.disabled) return;
    close();
    item.onSelect();
  };

  return (
    <div
      ref={ref}
      className="context-menu"
      role="menu"
      aria-label={label}
      data-testid="context-menu"
      style={pos}
      onKeyDown={onKeyDown}
      onContextMenu={(e) => e.preventDefault()}
    >
      {items.map((item) => (
        <div
          key={item.id}
          role={item.checked === undefined ? 'menuitem' : 'menuitemcheckbox'}
          aria-checked={item.checked}
          aria-disabled={item.disabled || undefined}
          tabIndex={-1}
          data-testid={`menu-${item.id}`}
          className={`context-menu-item${item.danger ? ' danger' : ''}`}
          onClick={() => choose(item)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' || e.key === ' ') {
              e.preventDefault();
              choose(item);
            }
          }}
        >
          <span className="context-menu-check" aria-hidden="true">
            {item.checked ? '✓' : ''}
          </span>
          <span className="context-menu-label">
            {item.label}
            {item.hint && <span className="context-menu-hint">{item.hint}</span>}
          </span>
        </div>
      ))}
      {enabled.length === 0 && <div className="context-menu-empty">Nothing to do</div>}
    </div>
  );
}
