// Small DOM helpers shared by the views.

/** Put the caret in the active chat's composer (after the view has updated). */
export function focusComposer(): void {
  window.setTimeout(() => {
    document.querySelector<HTMLTextAreaElement>("textarea.composer-input")?.focus();
  }, 0);
}
