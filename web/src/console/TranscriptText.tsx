// Text of transcripts on screen: highlighted hits as <mark> elements and masked labels
// (〔电话〕) as marked spans, both built from plain text pieces: never markup from the desk.
import { labelName, tt } from "./i18n-transcripts";
import { Linkified } from "./linkify";
import { type HitPiece, labelPieces, snippetPieces } from "./transcripts";

function authorNames(): Record<string, string> {
  return {
    reader: tt("author_reader"),
    consultant: tt("author_consultant"),
    bot: tt("author_bot"),
    system: tt("author_system"),
  };
}

/** A text with its masked labels shown as such (links in the rest stay clickable). */
export function MaskedText(props: { text: string }) {
  return (
    <>
      {labelPieces(props.text).map((p, i) =>
        p.label ? (
          <span key={i} class="pii-label" title={tt("maskedLabel", { what: labelName(p.text) })}>
            {p.text}
          </span>
        ) : (
          <Linkified key={i} text={p.text} />
        ),
      )}
    </>
  );
}

/** One search snippet: its hits in <mark>, labels marked, the lines' authors named. */
export function Snippet(props: { pieces: HitPiece[] }) {
  return (
    <p class="tr-snippet">
      {snippetPieces(props.pieces, authorNames()).map((p, i) =>
        p[1] ? <mark key={i}>{p[0]}</mark> : <MaskedPlain key={i} text={p[0]} />,
      )}
    </p>
  );
}

/** Labels marked, no links (a snippet is cut at arbitrary places, so is an address). */
function MaskedPlain(props: { text: string }) {
  return (
    <>
      {labelPieces(props.text).map((p, i) =>
        p.label ? (
          <span key={i} class="pii-label" title={tt("maskedLabel", { what: labelName(p.text) })}>
            {p.text}
          </span>
        ) : (
          p.text
        ),
      )}
    </>
  );
}
