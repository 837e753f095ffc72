// 审阅 · transcripts: search the ended consultations the desk lets this user see, open one,
// and the typical cases and audit log. The desk decides the scope (transcripts/access.py).
import type { DeskClient } from "./client";
import { tt } from "./i18n-transcripts";
import type { Me } from "./types";

export function Transcripts(props: { me: Me; client: DeskClient }) {
  void props;
  return (
    <section class="transcripts" aria-labelledby="transcripts-title" data-testid="transcripts">
      <header>
        <h2 id="transcripts-title">{tt("view_transcripts")}</h2>
        <p>{tt("transcriptsIntro")}</p>
      </header>
    </section>
  );
}
