// A file or link in a chat, as a card: title, authors · source · year, type, the file (name,
// size) or the address, who sent it, and a download. Everything is text from the message's
// `attachment`; nothing in it is ever parsed as markup.
import { useEffect, useState } from "preact/hooks";
import { cardText, fileUrl, httpUrl, showsPreview } from "./delivery";
import { type FileState, fileState } from "./delivery-api";
import { dt } from "./i18n-delivery";
import type { Attachment } from "./types";

export function AttachmentCard(props: { consultationId: number; seq: number; a: Attachment }) {
  const { a, consultationId, seq } = props;
  const text = cardText(a);
  const isFile = a.kind === "file";
  const href = fileUrl(consultationId, seq);
  const [state, setState] = useState<FileState | null>(null);
  const [previewFailed, setPreviewFailed] = useState(false);

  useEffect(() => {
    if (!isFile) return;
    let live = true;
    void fileState(href).then((s) => {
      if (live) setState(s);
    });
    return () => {
      live = false;
    };
  }, [href, isFile]);

  const link = a.kind === "link" ? httpUrl(a.url) : null;
  const gone = state === "purged" || state === "missing";
  const preview = showsPreview(a) && !gone && !previewFailed;

  return (
    <div
      class={`attachment kind-${a.kind} dir-${a.direction}${gone ? " att-gone" : ""}`}
      data-testid="attachment"
      data-kind={a.kind}
    >
      <p class="att-direction">
        <span aria-hidden="true">{isFile ? "📄 " : "🔗 "}</span>
        {text.direction}
        {text.type && <span class="att-type">{text.type}</span>}
      </p>
      <p class="att-title">{text.title}</p>
      {text.byline && <p class="att-byline">{text.byline}</p>}
      {isFile ? (
        <p class="att-file">{text.file}</p>
      ) : link ? (
        <p class="att-link">
          <a href={link} target="_blank" rel="noopener noreferrer">
            {a.url}
          </a>
        </p>
      ) : (
        <p class="att-link">
          {a.url} <span class="muted small">{dt("notAWebLink")}</span>
        </p>
      )}
      {preview && (
        <a class="att-preview" href={fileUrl(consultationId, seq, true)} target="_blank" rel="noopener noreferrer" title={dt("openPreview")}>
          <img
            src={fileUrl(consultationId, seq, true)}
            alt={dt("previewAlt", { name: a.name })}
            loading="lazy"
            onError={() => setPreviewFailed(true)}
          />
        </a>
      )}
      {isFile && state === "purged" && (
        <p class="att-gone-note" role="note">
          {dt("purged")}
        </p>
      )}
      {isFile && state === "missing" && (
        <p class="att-gone-note" role="note">
          {dt("missing")}
        </p>
      )}
      {isFile && !gone && (
        <p class="att-actions">
          <a class="att-download button" href={href} download={a.name} aria-label={dt("downloadName", { name: a.name })}>
            {dt("download")}
          </a>
        </p>
      )}
    </div>
  );
}
