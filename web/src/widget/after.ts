// At the end of a chat a consultant served (closed or handed off): the reader's rating
// (满意 / 不满意 with an optional comment, POST .../rating) and their copy of the conversation
// (对话记录: downloaded with the reader's token, or mailed when the desk sends mail). Shown under
// the "chat ended" bar; every word from the reader goes out as JSON and is never shown as
// markup. The pure parts are unit-tested in after.test.ts.
import type { Chat, Consultation, DeskError, Message } from "./chat";
import { h, text } from "./dom";
import { dispositionName, fileError, save } from "./files";
import type { Lang, TextKey } from "./i18n";
import { t } from "./i18n";

type Tr = (key: TextKey, vars?: Record<string, string | number>) => string;

/** States of an ended chat the desk lets the reader rate (stats/rating.py RATEABLE). */
const RATEABLE = new Set(["closed", "handed_off"]);
/** The desk's limit on a rating's comment. */
export const MAX_COMMENT = 500;
/** The desk's own check of an email address (transcripts/api.py MailBody). */
const EMAIL_RE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * The chat `c` ended after a consultant served it, so it may be rated and copied: closed or
 * handed off, and a consultant was seen taking it (`seen`) or wrote in it. A chat only the bot
 * answered, or one the reader left in the queue, is not (the desk refuses it: `not_rateable`).
 */
export function served(c: Consultation | null, msgs: readonly Message[], seen: boolean): boolean {
  return !!c && RATEABLE.has(c.state) && (seen || msgs.some((m) => m.author_kind === "consultant"));
}

/** What POST .../rating is sent: the comment trimmed to the desk's limit. */
export function ratingBody(satisfied: boolean, comment: string): { satisfied: boolean; comment: string } {
  return { satisfied, comment: comment.trim().slice(0, MAX_COMMENT) };
}

/** An address the desk would take for the mailed copy. */
export function mailOk(email: string): boolean {
  return email.length <= 254 && EMAIL_RE.test(email);
}

/** Why a rating or a mailed copy did not go, in plain words. */
export function afterError(lang: Lang, err: DeskError, mail = false): string {
  switch (err.code) {
    case "not_rateable":
    case "mail_unavailable":
    case "mail_failed":
      return t(lang, err.code);
    case "network":
      return t(lang, "afterNetwork");
    default:
      if (mail && err.code === "invalid_payload") return t(lang, "badMail");
      return t(lang, mail ? "mailError" : "rateError", { code: err.code });
  }
}

export class After {
  private cid: number | null = null;
  /** The reader asked to change a rating already given. */
  private changing = false;
  private busy = false;

  private readonly legend = h("legend");
  private readonly choices = [true, false].map((yes) => {
    const radio = h("input", { type: "radio", name: "dw-rate", value: yes ? "1" : "0" });
    const name = h("span");
    return { radio, name, label: h("label", { class: "kind" }, radio, name) };
  });
  private readonly cLabel = h("label", { for: "dw-rc" });
  private readonly comment = h("textarea", { id: "dw-rc", rows: "2", maxlength: String(MAX_COMMENT), class: "input" });
  private readonly rateBtn = h("button", { type: "submit", class: "send" });
  private readonly form = h(
    "form",
    { class: "rate", novalidate: true, onsubmit: (e) => void this.rate(e) },
    h("fieldset", {}, this.legend, ...this.choices.map((c) => c.label)),
    this.cLabel,
    this.comment,
    h("div", { class: "row" }, this.rateBtn),
  );
  private readonly thanks = h("span", { tabindex: "-1" });
  private readonly changeBtn = h("button", { type: "button", class: "link", onclick: () => this.change() });
  private readonly rated = h("p", { class: "rated" }, this.thanks, " ", this.changeBtn);
  private readonly copyTitle = h("h3", { class: "lt" });
  private readonly downBtn = h("button", { type: "button", onclick: () => void this.download() });
  private readonly mLabel = h("label", { for: "dw-cm" });
  private readonly email = h("input", { id: "dw-cm", type: "email", autocomplete: "email", maxlength: "254", class: "input" });
  private readonly mailBtn = h("button", { type: "submit" });
  private readonly mail = h("form", { class: "mail", novalidate: true, onsubmit: (e) => void this.sendMail(e) }, this.mLabel, h("div", { class: "row" }, this.email, this.mailBtn));
  /** What happened (thanks, downloaded, mailed): a polite live region. */
  private readonly status = h("p", { class: "note", "aria-live": "polite" });
  readonly el = h("section", { class: "after" }, this.form, this.rated, this.copyTitle, this.downBtn, this.mail, this.status);

  constructor(
    private readonly chat: Chat,
    private readonly tr: Tr,
    private readonly lang: () => Lang,
    /** Show a refusal in the panel's alert line ("" clears it). */
    private readonly say: (msg: string) => void,
  ) {}

  private change(): void {
    this.changing = true;
    this.render();
    (this.choices.find((c) => c.radio.checked)?.radio ?? this.choices[0].radio).focus();
  }

  private async rate(e: Event): Promise<void> {
    e.preventDefault();
    if (this.busy) return;
    const pick = this.choices.find((c) => c.radio.checked);
    if (!pick) {
      this.say(this.tr("ratePick"));
      this.choices[0].radio.focus();
      return;
    }
    this.busy = true;
    this.say("");
    this.render();
    const err = await this.chat.rate(ratingBody(pick.radio.value === "1", this.comment.value));
    this.busy = false;
    if (err) this.say(afterError(this.lang(), err));
    else {
      this.changing = false;
      text(this.status, "");
    }
    this.render();
    if (!err) this.thanks.focus();
  }

  private async download(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.say("");
    text(this.status, this.tr("downloading"));
    this.render();
    const cid = this.chat.cid;
    const got = await this.chat.fetchTranscript().done;
    this.busy = false;
    if (got.ok && got.blob) {
      save(got.blob, dispositionName(got.disposition ?? null) ?? `consultation-${cid}.txt`, this.el);
      text(this.status, this.tr("downloaded"));
    } else {
      text(this.status, "");
      this.say(got.ok ? "" : fileError(this.lang(), got.error, null, true));
    }
    this.render();
  }

  private async sendMail(e: Event): Promise<void> {
    e.preventDefault();
    if (this.busy) return;
    const email = this.email.value.trim();
    if (!mailOk(email)) {
      this.say(this.tr("badMail"));
      this.email.focus();
      return;
    }
    this.busy = true;
    this.say("");
    text(this.status, this.tr("mailSending"));
    this.render();
    const err = await this.chat.mailTranscript(email);
    this.busy = false;
    text(this.status, err ? "" : this.tr("mailed", { email }));
    if (err) this.say(afterError(this.lang(), err, true));
    this.render();
  }

  render(): void {
    const tr = this.tr;
    const c = this.chat;
    if (c.cid !== this.cid) {
      // Another chat: nothing of the last one's choices stays.
      this.cid = c.cid;
      this.changing = false;
      this.comment.value = "";
      for (const x of this.choices) x.radio.checked = false;
      text(this.status, "");
    }
    const done = c.rated && !this.changing;
    this.form.hidden = done;
    this.rated.hidden = !done;
    text(this.legend, tr("rateAsk"));
    this.choices.forEach((x, i) => {
      text(x.name, tr(i ? "rateNo" : "rateYes"));
      x.radio.disabled = this.busy;
    });
    text(this.cLabel, tr("rateComment", { n: MAX_COMMENT }));
    text(this.rateBtn, tr(this.busy ? "submitting" : "rateSend"));
    this.rateBtn.disabled = this.busy;
    text(this.thanks, tr("rateThanks"));
    text(this.changeBtn, tr("rateChange"));
    text(this.copyTitle, tr("copyTitle"));
    text(this.downBtn, tr("copyDown"));
    this.downBtn.disabled = this.busy;
    this.mail.hidden = !c.info?.mail;
    text(this.mLabel, tr("copyMail"));
    text(this.mailBtn, tr("mailSend"));
    this.mailBtn.disabled = this.busy;
  }
}
