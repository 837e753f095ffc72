// Entry of the reader widget. A member library embeds it with one tag:
//   <script src="https://DESK/widget.js" data-library="demo-pl" async></script>
// The desk's address is the origin of this script's own src. Optional attributes:
// data-lang="zh-CN" | "en" and data-mode="launcher" | "page".
import { Chat } from "./chat";
import { View } from "./view";

// Only valid while this script first runs (also for async scripts), so read it now.
const script =
  (document.currentScript as HTMLScriptElement | null) ??
  document.querySelector<HTMLScriptElement>('script[data-library][src*="widget.js"]');

const views: View[] = [];

function mount(): void {
  if (!script) return;
  const library = script.dataset.library ?? "";
  if (!library || document.querySelector(`[data-desk-widget="${CSS.escape(library)}"]`)) return;
  const desk = new URL(script.src, location.href).origin;
  const mode = script.dataset.mode === "page" ? "page" : "launcher";
  const chat = new Chat(desk, library, script.dataset.lang === "en" ? "en" : "zh-CN");
  const view = new View(chat, mode);
  document.body.append(view.host);
  // In the top layer the widget stays on the viewport and on top even when the page sets a
  // transform, filter or z-index on an ancestor (which would capture position: fixed).
  try {
    view.host.popover = "manual";
    view.host.showPopover();
  } catch {
    // Older browsers: a fixed element with a very high z-index.
  }
  views.push(view);
  view.render();
  // Connect at once only where a conversation may go on (a stored token, a chat or an unsent
  // message) or in full-page mode; otherwise wait until the reader opens the panel, so a page
  // view does not create a visitor.
  if (chat.hasToken && (mode === "page" || chat.cid !== null || chat.outbox.length || chat.panelWasOpen)) {
    void chat.start();
  }
}

if (document.body) mount();
else document.addEventListener("DOMContentLoaded", mount, { once: true });

/** The one global, `DeskWidget`: lets a host page open or close the panel from its own link. */
export function open(): void {
  views[0]?.setOpen(true);
}

export function close(): void {
  views[0]?.setOpen(false);
}
