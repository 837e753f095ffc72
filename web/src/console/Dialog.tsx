// A modal dialog: labelled, closes with Escape, keeps Tab inside, gives focus back on close.
import type { ComponentChildren } from "preact";
import { useLayoutEffect, useRef } from "preact/hooks";
import { t } from "./i18n";

export function Dialog(props: { title: string; onClose: () => void; children: ComponentChildren }) {
  const box = useRef<HTMLDivElement>(null);

  // Focus moves in before the dialog is painted: with a plain effect (run after paint) an
  // Escape pressed as soon as the dialog shows went to the page behind it and was lost.
  useLayoutEffect(() => {
    const first = box.current?.querySelector<HTMLElement>(
      "input:not([disabled]), select, textarea, button:not([disabled])",
    );
    first?.focus();
  }, []);

  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      props.onClose();
      return;
    }
    if (e.key !== "Tab" || !box.current) return;
    const items = [
      ...box.current.querySelectorAll<HTMLElement>(
        "input:not([disabled]), select:not([disabled]), textarea:not([disabled]), button:not([disabled])",
      ),
    ];
    if (items.length === 0) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };

  return (
    <div class="backdrop">
      <div
        class="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="dialog-title"
        ref={box}
        onKeyDown={onKey}
      >
        <header class="dialog-head">
          <h2 id="dialog-title">{props.title}</h2>
          <button type="button" class="link" onClick={props.onClose} aria-label={t("closeDialog")}>
            ×
          </button>
        </header>
        {props.children}
      </div>
    </div>
  );
}
