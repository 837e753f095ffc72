// The form inside the panel that leaves the question for the form service (留言 / 表单咨询):
// the norms' switch from live chat to form or phone consultation. With a chat under way it is
// handed off (`handoff`); without one it is filed with `POST /api/tickets` (see Chat.leave).
import type { Chat, DeskError, TicketRef } from "./chat";
import { h, link, text } from "./dom";
import type { TextKey } from "./i18n";

type Tr = (key: TextKey, vars?: Record<string, string | number>) => string;

/** The desk's own check of an email address (protocol: `handoff`, `POST /api/tickets`). */
const EMAIL_RE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const MAX_QUESTION = 4000;

export class Leave {
  /** The ticket just left: the form shows its number and link until the reader goes back. */
  result: TicketRef | null = null;
  /** The form can be left for the chat ("Cancel"); not when it is offered first, before the
   * reader wrote (the view offers its own way to chat then). */
  cancellable = true;
  private busy = false;

  private readonly heading = h("h3", { class: "lt", tabindex: "-1" });
  private readonly intro = h("p", { class: "note" });
  private readonly ends = h("p", { class: "note" });
  private readonly qLabel = h("label", { for: "dw-q" });
  readonly q = h("textarea", { id: "dw-q", rows: "5", maxlength: String(MAX_QUESTION), class: "input" });
  private readonly legend = h("legend");
  private readonly kinds = (["form", "document"] as const).map((kind) => {
    const radio = h("input", { type: "radio", name: "dw-kind", value: kind, checked: kind === "form" });
    const name = h("b");
    const note = h("span", { class: "note" });
    return { radio, name, note, label: h("label", { class: "kind" }, radio, name, note) };
  });
  private readonly eLabel = h("label", { for: "dw-e" });
  private readonly email = h("input", {
    id: "dw-e",
    type: "email",
    autocomplete: "email",
    maxlength: "254",
    class: "input",
    "aria-describedby": "dw-en",
  });
  private readonly eNote = h("p", { id: "dw-en", class: "note" });
  private readonly phone = h("p", { class: "note" });
  private readonly submitBtn = h("button", { type: "submit", class: "send" });
  private readonly cancelBtn = h("button", { type: "button", onclick: () => this.close() });
  private readonly fields = h(
    "div",
    { class: "fields" },
    this.intro,
    this.ends,
    this.qLabel,
    this.q,
    h("fieldset", {}, this.legend, ...this.kinds.map((k) => k.label)),
    this.eLabel,
    this.email,
    this.eNote,
    this.phone,
    h("div", { class: "row" }, this.submitBtn, this.cancelBtn),
  );
  private readonly doneText = h("p");
  private readonly doneLink = h("p");
  private readonly backBtn = h("button", { type: "button", onclick: () => this.close() });
  private readonly done = h("div", { class: "done" }, this.doneText, this.doneLink, this.backBtn);
  readonly el = h("form", { class: "leave", novalidate: true, onsubmit: (e) => void this.submit(e) }, this.heading, this.fields, this.done);

  constructor(
    private readonly chat: Chat,
    private readonly tr: Tr,
    /** Show a refusal (in the panel's alert line); "" clears it. */
    private readonly say: (msg: string) => void,
    /** The reader leaves the form (cancel, back, Esc). */
    private readonly close: () => void,
    /** A ticket was left with this question. */
    private readonly left: (question: string) => void,
  ) {}

  /** Show the form; the question starts as what the reader asked so far, unless they already
   * wrote one here (nothing typed is lost). */
  open(draft: string): void {
    this.result = null;
    if (!this.q.value.trim()) {
      this.q.value = [this.chat.askedSoFar(), draft.trim()].filter(Boolean).join("\n").slice(0, MAX_QUESTION);
    }
  }

  /** Forget what was typed (the reader cleared this device). */
  reset(): void {
    this.result = null;
    this.q.value = "";
    this.email.value = "";
  }

  private fail(key: TextKey, vars?: Record<string, string>): void {
    this.say(this.tr(key, vars));
  }

  private errorKey(err: DeskError): TextKey | null {
    switch (err.code) {
      case "empty_question":
      case "network":
      case "invalid_payload":
        return err.code;
      case "wrong_state":
      case "illegal_transition":
      case "consultation_not_found":
      case "consultation_ended":
        return "wrong_state";
      default:
        return null;
    }
  }

  private async submit(e: Event): Promise<void> {
    e.preventDefault();
    if (this.busy) return;
    const question = this.q.value;
    const email = this.email.value.trim();
    if (email && (email.length > 254 || !EMAIL_RE.test(email))) {
      this.fail("badEmail");
      this.email.focus();
      return;
    }
    // With a chat under way the desk can take the question from the chat itself.
    if (!question.trim() && !this.chat.active) {
      this.fail("empty_question");
      this.q.focus();
      return;
    }
    this.busy = true;
    this.say("");
    this.render();
    const kind = this.kinds.find((k) => k.radio.checked)?.radio.value === "document" ? "document" : "form";
    const r = await this.chat.leave({ question, kind, email });
    this.busy = false;
    if ("url" in r) {
      this.result = r;
      this.q.value = "";
      this.email.value = "";
      this.left(question);
      this.render();
      this.heading.focus();
    } else {
      const key = this.errorKey(r);
      if (key) this.fail(key);
      else this.fail("leaveError", { code: r.code });
      this.render();
    }
  }

  render(): void {
    const tr = this.tr;
    const r = this.result;
    text(this.heading, tr("leaveTitle"));
    this.fields.hidden = !!r;
    this.done.hidden = !r;
    if (r) {
      text(this.doneText, tr("done", { id: r.id }));
      if (this.doneLink.firstElementChild?.getAttribute("href") !== r.url || this.doneLink.textContent !== tr("view")) {
        this.doneLink.replaceChildren(link(r.url, tr("view")));
      }
      text(this.backBtn, tr("back"));
      return;
    }
    text(this.intro, tr("leaveIntro"));
    this.ends.hidden = !this.chat.active;
    text(this.ends, tr("leaveEnds"));
    text(this.qLabel, tr("question"));
    text(this.legend, tr("kind"));
    const names: [TextKey, TextKey][] = [
      ["kindForm", "kindFormNote"],
      ["kindDoc", "kindDocNote"],
    ];
    this.kinds.forEach((k, i) => {
      text(k.name, tr(names[i][0]));
      text(k.note, tr(names[i][1]));
    });
    text(this.eLabel, tr("email"));
    text(this.eNote, tr("emailNote"));
    const phone = this.chat.info?.phone;
    this.phone.hidden = !phone;
    text(this.phone, phone ? tr("orCall", { phone }) : "");
    text(this.submitBtn, tr(this.busy ? "submitting" : "submit"));
    this.submitBtn.disabled = this.busy;
    text(this.cancelBtn, tr("cancel"));
    this.cancelBtn.hidden = !this.cancellable;
  }
}
