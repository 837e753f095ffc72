// The library settings pages in the top bar's settings area, next to 自动回复设置: 知识库,
// 服务时间与电话, 用语提醒. Each is a dialog; supervisors and admins edit, the others read.
import "./settings.css";
import { EtiquetteLists } from "./EtiquetteLists";
import { st } from "./i18n-settings";
import { KnowledgeBase } from "./KnowledgeBase";
import { LibrarySettings } from "./LibrarySettings";
import type { Me } from "./types";

export type SettingsPage = "kb" | "hours" | "etiquette";

const PAGES: SettingsPage[] = ["kb", "hours", "etiquette"];

/** The top bar's buttons, one per page. */
export function SettingsLinks(props: { onOpen: (page: SettingsPage) => void }) {
  return (
    <>
      {PAGES.map((p) => (
        <button key={p} type="button" class="link" data-settings={p} onClick={() => props.onOpen(p)}>
          {st(`page_${p}`)}
        </button>
      ))}
    </>
  );
}

export function SettingsDialog(props: { page: SettingsPage; me: Me; onClose: () => void }) {
  if (props.page === "kb") return <KnowledgeBase me={props.me} onClose={props.onClose} />;
  if (props.page === "hours") return <LibrarySettings onClose={props.onClose} />;
  return <EtiquetteLists onClose={props.onClose} />;
}
