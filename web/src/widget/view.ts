// The widget's DOM, inside an open shadow root. Everything from the network or the reader is
// placed with textContent only, never parsed as HTML; http(s) URLs in messages become links
// built the same way (dom.ts).
import css from "./widget.css?inline";
import { After } from "./after";
import { Chat, type DeskError, type Message, type Upload } from "./chat";
import { dayTime, h, hhmm, link, linkify, safeUrl, text } from "./dom";
import { acceptOf, type Attachment, cardLines, dispositionName, fileError, save, sizeText } from "./files";
import { type Gate, gateOf, opening } from "./hours";
import { langName, t, type Lang, type TextKey } from "./i18n";
import { Leave } from "./leave";
import { lastReadSeq, unsent } from "./messages";

const NEAR_BOTTOM_PX = 48;

export class View {
  readonly host: HTMLElement;
  private open = false;
  private lang: Lang;
  /** Which confirmation the bar asks for, if any. */
  private confirming: "" | "end" | "clear" = "";
  /** The form service's form is shown instead of the chat. */
  private leaving = false;
  /** Outside service hours or with nobody online, the start view offers the form first (a
   * "gate"); the reader chose to chat all the same. */
  private chatAnyway = false;
  /** The gate shown by the last render, if any. */
  private gate: Gate | null = null;
  private ticketsShown = "";
  private notice = "";
  private reconnectedUntil = 0;
  private lastConn = "";
  private readonly items = new Map<string, HTMLElement>();
  /** Messages whose file is being downloaded (by seq). */
  private readonly fetching = new Set<number>();

  private readonly launcher = h("button", { type: "button", class: "launcher", "aria-expanded": "false", onclick: () => this.setOpen(true) });
  private readonly badge = h("span", { class: "badge", hidden: true });
  private readonly launcherText = h("span");
  private readonly panel = h("section", { class: "panel", role: "dialog", "aria-modal": "false" });
  private readonly title = h("h2", { class: "title" });
  private readonly who = h("p", { class: "who" });
  private readonly langBtn = h("button", { type: "button", class: "hbtn", onclick: () => this.switchLang() });
  private readonly endBtn = h("button", { type: "button", class: "hbtn", onclick: () => this.ask("end") });
  private readonly minBtn = h("button", { type: "button", class: "hbtn min", onclick: () => this.setOpen(false) }, "×");
  private readonly conn = h("div", { class: "conn", role: "status", "aria-live": "polite" });
  // The queue status: a polite live region of its own (no role="status", which belongs to the
  // connection line). Updated every 5 s by the desk, but its text is only assigned when the
  // wording changes, so a screen reader hears a new place, not the same words again.
  private readonly queue = h("div", { class: "queue", "aria-live": "polite", "aria-atomic": "true" });
  private readonly confirmText = h("span");
  private readonly yesBtn = h("button", { type: "button", class: "danger", onclick: () => this.confirmed() });
  private readonly noBtn = h("button", { type: "button", onclick: () => this.ask("") });
  private readonly confirm = h("div", { class: "confirm", hidden: true }, this.confirmText, this.yesBtn, this.noBtn);
  // Offered under the queue status when nobody is online or the wait is long.
  private readonly offerText = h("span");
  private readonly offerBtn = h("button", { type: "button", onclick: () => this.openLeave() });
  private readonly offer = h("div", { class: "offer", hidden: true }, this.offerText, this.offerBtn);
  // Before the reader writes, outside service hours or with nobody online: said plainly, above
  // the form, with a way to chat all the same when someone could answer.
  private readonly availText = h("p", { class: "avail-text" });
  private readonly availBtn = h("button", { type: "button", onclick: () => this.passGate() });
  private readonly avail = h("div", { class: "avail", hidden: true, "aria-live": "polite" }, this.availText, this.availBtn);
  private readonly intro = h("div", { class: "intro" });
  private readonly tickets = h("div", { class: "tickets", hidden: true });
  private readonly log = h("div", { class: "log", role: "log", "aria-live": "polite", tabindex: "0" });
  private readonly typing = h("div", { class: "typing", "aria-live": "polite" });
  private readonly endText = h("span");
  private readonly newBtn = h("button", { type: "button", onclick: () => this.newChat() });
  private readonly endbar = h("div", { class: "endbar", hidden: true }, this.endText, this.newBtn);
  private readonly alert = h("div", { class: "alert", role: "alert" });
  private readonly input = h("textarea", { rows: "2", class: "input" });
  private readonly sendBtn = h("button", { type: "submit", class: "send" });
  // Sending a file: a labelled button that opens the (hidden) file input; after the text box
  // in the tab order, so Shift+Tab from it still reaches the message list.
  private readonly fileIn = h("input", { type: "file", hidden: true, tabindex: "-1", onchange: () => this.picked() });
  private readonly attBtn = h("button", { type: "button", class: "att", onclick: () => this.fileIn.click() }, clip());
  private readonly composer = h("form", { class: "composer", onsubmit: (e) => this.submit(e) }, this.input, this.attBtn, this.fileIn, this.sendBtn);
  private readonly leaveBtn = h("button", { type: "button", class: "link", onclick: () => this.openLeave() });
  private readonly clearBtn = h("button", { type: "button", class: "link", onclick: () => this.ask("clear") });
  private readonly leave: Leave;
  private readonly after: After;
  private readonly shadow: ShadowRoot;

  constructor(
    private readonly chat: Chat,
    private readonly mode: "launcher" | "page",
  ) {
    this.lang = chat.lang === "en" ? "en" : "zh-CN";
    this.host = document.createElement("div");
    this.host.setAttribute("data-desk-widget", chat.library);
    this.host.setAttribute("data-mode", mode);
    const shadow = (this.shadow = this.host.attachShadow({ mode: "open" }));
    // A constructed stylesheet also works on host pages whose CSP forbids inline styles.
    let style: HTMLStyleElement | null = null;
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      shadow.adoptedStyleSheets = [sheet];
    } catch {
      style = document.createElement("style");
      style.textContent = css;
    }
    this.leave = new Leave(
      chat,
      (k, v) => this.tr(k, v),
      (msg) => {
        this.notice = msg;
        this.render();
      },
      () => this.closeLeave(),
      (question) => {
        // The composer's draft went into the question: do not leave it behind as well.
        const draft = this.input.value.trim();
        if (draft && question.includes(draft)) this.input.value = "";
      },
    );
    this.after = new After(
      chat,
      (k, v) => this.tr(k, v),
      () => this.lang,
      (msg) => {
        this.notice = msg;
        this.render();
      },
    );
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) this.submit(e);
    });
    this.input.addEventListener("input", () => chat.typing());
    this.input.addEventListener("blur", () => chat.stopTyping());
    // A screenshot pasted into the text box is sent as a file.
    this.input.addEventListener("paste", (e) => {
      const f = e.clipboardData?.files[0];
      if (f && chat.canAttach) {
        e.preventDefault();
        this.attach(f);
      }
    });
    this.panel.append(
      h("header", {}, h("div", { class: "titles" }, this.title, this.who), this.langBtn, this.endBtn, this.minBtn),
      this.conn,
      this.queue,
      this.offer,
      this.confirm,
      this.avail,
      this.intro,
      this.tickets,
      this.log,
      this.typing,
      this.endbar,
      this.after.el,
      this.leave.el,
      this.alert,
      this.composer,
      h("div", { class: "tools" }, this.leaveBtn, this.clearBtn),
    );
    this.panel.addEventListener("keydown", (e) => {
      if (e.key !== "Escape") return;
      if (this.confirming) this.ask("");
      else if (this.leaving && this.leave.cancellable) this.closeLeave();
      else if (mode === "launcher") this.setOpen(false, true);
    });
    this.launcher.append(this.launcherText, this.badge);
    const root = h("div", { class: `root m-${mode}` });
    if (mode === "launcher") root.append(this.launcher);
    else this.minBtn.hidden = true;
    root.append(this.panel);
    if (style) shadow.append(style);
    shadow.append(root);
    document.addEventListener("visibilitychange", () => this.syncVisible());
    chat.onChange = () => this.render();
    chat.onRefused = (item) => {
      if (!this.input.value.trim()) this.input.value = item.body;
      this.notice = this.errorText(item.error);
    };
    chat.onNotice = (key) => {
      this.notice = t(this.lang, key);
      this.render();
    };
    this.open = mode === "page" || chat.panelWasOpen;
    this.syncVisible();
    chat.watchLibrary(this.open);
  }

  private tr(key: TextKey, vars?: Record<string, string | number>): string {
    return t(this.lang, key, vars);
  }

  setOpen(open: boolean, focusLauncher = open === false): void {
    if (this.mode === "page") open = true;
    const was = this.open;
    this.open = open;
    this.chat.rememberOpen(open);
    if (open) void this.chat.start();
    if (open !== was) this.chat.watchLibrary(open);
    this.syncVisible();
    if (open) this.focusMain();
    else if (focusLauncher) this.launcher.focus();
  }

  /** Focus what the panel is about now: the form, the text box, or "start a new chat". */
  private focusMain(): void {
    (this.leaving || this.gate ? this.leave.q : this.input.disabled ? this.newBtn : this.input).focus();
  }

  /** The reader chats although the library is closed or nobody is online: what they wrote in
   * the form goes into the text box. */
  private passGate(): void {
    this.chatAnyway = true;
    this.gate = null;
    this.leaving = false;
    this.leave.result = null;
    if (!this.input.value.trim() && this.leave.q.value.trim()) {
      this.input.value = this.leave.q.value;
      this.leave.q.value = "";
    }
    this.notice = "";
    this.render();
    this.input.focus();
  }

  private syncVisible(): void {
    this.chat.setVisible(this.open && document.visibilityState === "visible");
  }

  private switchLang(): void {
    this.lang = this.lang === "en" ? "zh-CN" : "en";
    this.chat.setLang(this.lang);
    // Author labels are in the interface language: rebuild the list once.
    this.items.clear();
    this.log.textContent = "";
    this.render();
  }

  /** Ask for a confirmation ("end" the chat, "clear" this device), or hide the question (""). */
  private ask(what: "" | "end" | "clear"): void {
    const was = this.confirming;
    this.confirming = what;
    this.render();
    if (what) this.noBtn.focus();
    else (was === "clear" ? this.clearBtn : this.endBtn.hidden ? this.input : this.endBtn).focus();
  }

  private async confirmed(): Promise<void> {
    const what = this.confirming;
    this.confirming = "";
    this.render();
    if (what === "end") {
      await this.chat.end();
      this.newBtn.focus();
      return;
    }
    await this.chat.clear();
    this.leave.reset();
    this.leaving = false;
    this.chatAnyway = false;
    this.input.value = "";
    this.notice = this.tr("cleared");
    this.render();
    this.input.focus();
  }

  private openLeave(): void {
    this.confirming = "";
    this.notice = "";
    this.leaving = true;
    this.leave.open(this.input.value);
    this.render();
    this.leave.q.focus();
  }

  private closeLeave(): void {
    this.leaving = false;
    this.notice = "";
    this.leave.result = null;
    this.render();
    this.focusMain();
  }

  private newChat(): void {
    this.notice = "";
    this.chatAnyway = false;
    this.chat.newChat();
    this.focusMain();
  }

  private submit(e: Event): void {
    e.preventDefault();
    const body = this.input.value;
    if (!body.trim() || this.input.disabled) return;
    this.input.value = "";
    this.notice = "";
    this.chat.send(body);
    this.log.scrollTop = this.log.scrollHeight;
  }

  /** The reader chose a file. */
  private picked(): void {
    const f = this.fileIn.files?.[0];
    this.fileIn.value = ""; // the same file may be chosen again
    if (f) this.attach(f);
  }

  /** Send a file, or say why it cannot go (its size, its kind). */
  private attach(f: File): void {
    const err = this.chat.sendFile(f);
    this.notice = err ? fileError(this.lang, err, this.chat.limits) : "";
    this.render();
    if (!err) this.log.scrollTop = this.log.scrollHeight;
  }

  /** Fetch a message's file with the reader's token and save it under the desk's name. */
  private async download(seq: number, a: Attachment, bar: HTMLProgressElement, st: HTMLElement): Promise<void> {
    if (this.fetching.has(seq)) return;
    this.fetching.add(seq);
    bar.value = 0;
    bar.hidden = false;
    text(st, this.tr("downloading"));
    const got = await this.chat.fetchFile(seq, (n, total) => (bar.value = (100 * n) / (total || a.size || n))).done;
    this.fetching.delete(seq);
    bar.hidden = true;
    if (got.ok && got.blob) {
      save(got.blob, dispositionName(got.disposition ?? null) ?? (a.name || "file"), this.shadow);
      text(st, this.tr("downloaded"));
    } else text(st, got.ok ? "" : fileError(this.lang, got.error, null, true));
  }

  /** A message's file or link as a card: every part of it text (the link's address checked). */
  private card(b: HTMLElement, seq: number, a: Attachment): void {
    const { title, meta, file } = cardLines(a);
    b.className = "body card";
    b.append(h("span", { class: "ck" }, this.tr(a.kind === "link" ? "linkLabel" : "fileLabel")), h("strong", {}, title));
    if (meta) b.append(h("span", {}, meta));
    if (a.kind === "link") {
      const href = safeUrl(a.url);
      b.append(href ? link(href, a.url) : h("span", {}, a.url));
      return;
    }
    const bar = h("progress", { max: "100", hidden: true, "aria-label": this.tr("progress") });
    const st = h("span", { class: "ds" });
    const btn = h("button", { type: "button", "aria-label": this.tr("downloadName", { name: a.name || title }) }, this.tr("download"));
    btn.onclick = () => void this.download(seq, a, bar, st);
    if (file) b.append(h("span", { class: "cf" }, file));
    b.append(h("div", { class: "dr" }, btn, bar, st));
  }

  /** A file on its way: its name and size, progress, cancel; or why it did not go. */
  private uploadCard(u: Upload): HTMLElement {
    const bad = u.state === "lost" || u.state === "refused";
    const status =
      u.state === "up" ? this.tr("uploading") : u.state === "wait" ? this.tr("upWait") : fileError(this.lang, u.error ?? { code: "network" }, this.chat.limits);
    const el = this.bubble(`u${u.cmid}`, "", this.tr("you"), (b) => {
      b.className = "body card";
      b.append(
        h("span", { class: "ck" }, this.tr("fileLabel")),
        h("strong", {}, u.name),
        h("span", { class: "cf" }, sizeText(u.file.size)),
        h(
          "div",
          { class: "dr" },
          h("progress", { max: "100", "aria-label": this.tr("progress") }),
          h("button", { type: "button", onclick: () => this.chat.retry(u) }, this.tr("retry")),
          h("button", { type: "button", onclick: () => this.chat.dropUpload(u.cmid) }),
        ),
      );
    }, status);
    el.className = `msg m-reader ${bad ? "failed" : "pending"}`;
    const [bar, retry, drop] = el.querySelector(".dr")?.children as unknown as [HTMLProgressElement, HTMLElement, HTMLElement];
    bar.hidden = u.state !== "up";
    bar.value = (100 * u.loaded) / (u.file.size || 1);
    retry.hidden = u.state !== "lost";
    text(drop, this.tr(bad ? "remove" : "cancel"));
    drop.setAttribute("aria-label", this.tr(bad ? "removeName" : "cancelName", { name: u.name }));
    return el;
  }

  private errorText(err: DeskError): string {
    const d = err.details ?? {};
    const langs = Array.isArray(d.languages)
      ? (d.languages as string[]).map((x) => langName(this.lang, x)).join(this.lang === "en" ? ", " : "、")
      : "";
    switch (err.code) {
      case "message_too_long":
      case "language_not_served":
      case "consultation_ended":
      case "consultation_not_found":
      case "empty_message":
        return this.tr(err.code, { limit: String(d.limit ?? ""), langs });
      default:
        return this.tr("error", { code: err.code });
    }
  }

  private libName(lib: { name: string; name_en: string | null } | null | undefined): string {
    if (!lib) return "";
    return this.lang === "en" && lib.name_en ? lib.name_en : lib.name;
  }

  private author(m: Message): string {
    switch (m.author_kind) {
      case "reader":
        return this.tr("you");
      case "consultant": {
        const p = m.author_id !== null ? this.chat.people.get(m.author_id) : undefined;
        const lib = this.libName(p?.library);
        return (p?.name || this.tr("consultant")) + (lib ? ` · ${lib}` : "");
      }
      case "bot":
        return this.tr("bot");
      default:
        return this.tr("system");
    }
  }

  /** The queue status in words, or "" when the chat is not waiting (or nothing was told yet). */
  private queueText(): string {
    const q = this.chat.queued;
    if (!q) return "";
    if (!q.consultants_online) return this.tr("queueNobody");
    const ahead = q.ahead;
    const place = q.position <= 1 || ahead < 1 ? this.tr("queueNext") : ahead === 1 ? this.tr("queueAhead1") : this.tr("queueAhead", { n: ahead });
    return place + (q.minutes ? this.tr("queueMinutes", { n: q.minutes }) : "");
  }

  /** Show or lift the gate (the form first, before the reader writes). */
  private updateGate(gate: Gate | null): void {
    const was = this.gate;
    this.gate = gate;
    const focused = this.shadow.activeElement;
    if (gate && !was) {
      // The form takes the text box's place: a draft goes into the question, the focus follows.
      // (A form the reader opened already stays as it is, a ticket just left with it.)
      if (!this.leaving) this.leave.open(this.input.value);
      if (focused === this.input) queueMicrotask(() => this.leave.q.focus());
    } else if (!gate && was && !this.leaving) {
      // Someone came online, or the desk opened, while the form was shown. What the reader
      // wrote there stays, now with a way back to the chat; an empty form gives way to it.
      if (this.leave.q.value.trim() || this.leave.result) this.leaving = true;
      else if (focused && this.leave.el.contains(focused)) queueMicrotask(() => this.input.focus());
    }
  }

  /** The gate's words: the hours or nobody online, and what the reader can do. */
  private gateText(gate: Gate): string {
    if (gate.kind === "nobody") return this.tr("nobodyNow");
    const when = gate.opensAt ? opening(gate.opensAt, this.lang) : "";
    return [when ? this.tr("closedNext", { when }) : this.tr("closedNoNext"), this.tr(gate.chat ? "closedLive" : "closedForm")].join("\n");
  }

  /** A message of the list, built once per key: `body` as text with links, or filled by a
   * function (a card). */
  private bubble(key: string, kind: string, who: string, body: string | ((b: HTMLElement) => void), status: string, at = ""): HTMLElement {
    let el = this.items.get(key);
    if (!el) {
      const b = h("div", { class: "body" });
      if (typeof body === "string") linkify(b, body);
      else body(b);
      const tm = h("time", { class: "tm" });
      if ((tm.textContent = hhmm(at))) tm.dateTime = at;
      el = h("div", { class: `msg m-${kind}` }, h("div", { class: "by" }), b, h("div", { class: "meta" }, tm, h("span", { class: "st" })));
      this.items.set(key, el);
    }
    text(el.children[0] as HTMLElement, who);
    text(el.querySelector(".st") as HTMLElement, status);
    return el;
  }

  /** The reader's tickets on this device, each with its link; rebuilt only when they change. */
  private renderTickets(show: boolean): void {
    const list = this.chat.tickets;
    this.tickets.hidden = !show || !list.length;
    const key = this.lang + JSON.stringify(list);
    if (this.tickets.hidden || key === this.ticketsShown) return;
    this.ticketsShown = key;
    this.tickets.replaceChildren(
      h("h3", {}, this.tr("tickets")),
      h("ul", {}, ...list.map((tk) => h("li", {}, `${this.tr("ticket", { id: tk.id })} · ${dayTime(tk.at)} `, link(tk.url, this.tr("view"))))),
    );
  }

  render(): void {
    const c = this.chat;
    const tr = (k: TextKey, v?: Record<string, string | number>) => this.tr(k, v);
    const lib = this.libName(c.info) || tr("title");
    const consultation = c.consultation;
    // The start view: nothing written yet. Outside service hours or with nobody online it
    // offers the form first; a chat under way (or a message on its way) is never interrupted.
    const start = c.cid === null && c.outbox.length === 0 && c.failed.length === 0;
    const gate = start && !this.chatAnyway && c.conn !== "fatal" ? gateOf(c.info, this.lang) : null;
    this.updateGate(gate);
    const form = this.leaving || !!gate;

    this.host.lang = this.lang;
    text(this.launcherText, tr("launcher"));
    const unread = this.open ? 0 : c.unread();
    this.badge.hidden = unread === 0;
    text(this.badge, String(unread));
    this.launcher.setAttribute("aria-label", tr("launcher") + (unread ? `, ${tr("unread", { n: unread })}` : ""));
    this.launcher.setAttribute("aria-expanded", String(this.open));
    this.panel.hidden = !this.open;
    this.panel.setAttribute("aria-label", tr("dialog", { lib }));
    text(this.title, lib);
    text(this.langBtn, tr("switchLang"));
    this.langBtn.setAttribute("aria-label", tr("switchLangLabel"));
    this.langBtn.lang = this.lang === "en" ? "zh-CN" : "en";
    text(this.endBtn, tr("end"));
    this.endBtn.hidden = !c.active;
    this.minBtn.setAttribute("aria-label", tr("minimize"));

    // Who is answering, or the state of the chat.
    let who = "";
    let ended = "";
    if (consultation && c.active) {
      const p = consultation.consultant;
      if (consultation.state === "assigned" && p) {
        const l = this.libName(p.library);
        who = tr("assigned", { name: (p.name || tr("consultant")) + (l ? tr("paren", { x: l }) : "") });
      } else who = tr("waiting");
    } else if (c.ended && consultation) {
      const by = consultation.state === "abandoned" ? "system" : consultation.ended_by;
      ended =
        consultation.state === "handed_off"
          ? tr("endedHandoff")
          : tr(by === "reader" ? "endedReader" : by === "consultant" ? "endedConsultant" : by === "system" ? "endedSystem" : "ended");
    }
    text(this.who, who);

    // Connection state in plain words.
    if (c.conn === "connected" && this.lastConn && this.lastConn !== "connected" && this.lastConn !== "connecting") {
      this.reconnectedUntil = Date.now() + 4000;
      setTimeout(() => this.render(), 4100);
    }
    this.lastConn = c.conn;
    const connText: Record<string, string> = {
      connecting: tr("connecting"),
      reconnecting: tr("reconnecting"),
      offline: tr("offline"),
      fatal: tr("fatal"),
      connected: Date.now() < this.reconnectedUntil ? tr("reconnected") : "",
      idle: "",
    };
    text(this.conn, connText[c.conn]);
    this.conn.className = `conn c-${c.conn}`;

    text(this.queue, this.queueText());
    const q = c.queued;
    // The desk says when (the library's long-wait threshold, or nobody online); an older desk
    // does not, and then only nobody online offers it.
    this.offer.hidden = form || !q || !(q.offer_form ?? !q.consultants_online);
    text(this.offerText, tr("leaveOffer"));
    text(this.offerBtn, tr("leaveInstead"));

    if (this.confirming === "end" && !c.active) this.confirming = "";
    const clearing = this.confirming === "clear";
    this.confirm.hidden = !this.confirming;
    text(this.confirmText, clearing ? tr(c.active ? "confirmClearActive" : "confirmClear") : tr("confirmEnd"));
    text(this.yesBtn, tr(clearing ? "clearYes" : "confirmYes"));
    text(this.noBtn, tr(clearing ? "cancel" : "confirmNo"));

    this.avail.hidden = !gate;
    if (gate) {
      text(this.availText, this.gateText(gate));
      this.availBtn.hidden = !gate.chat;
      text(this.availBtn, tr(gate.kind === "closed" ? "chatAnyway" : "waitAnyway"));
    }

    // The form service's form takes the place of the chat while it is shown.
    this.leave.el.hidden = !form;
    this.leave.cancellable = !gate;
    if (form) this.leave.render();
    for (const el of [this.log, this.typing, this.composer]) el.hidden = form;
    text(this.leaveBtn, tr("leave"));
    this.leaveBtn.hidden = form || c.conn === "fatal";
    text(this.clearBtn, tr("clear"));
    this.clearBtn.hidden = !c.hasData && !c.active;

    // The start view: greeting, languages and phone (with a gate: the reader's tickets above
    // the form).
    this.intro.hidden = !start || form;
    this.renderTickets(!c.active && (!form || !!gate) && !this.leave.result);
    if (start) {
      const lines = [tr("welcome", { lib })];
      if (c.info) {
        lines.push(tr("onlyLangs", { langs: c.info.languages.map((x) => langName(this.lang, x)).join(this.lang === "en" ? ", " : "、") }));
        if (c.info.phone) lines.push(tr("phone", { phone: c.info.phone }));
      }
      text(this.intro, lines.join("\n"));
    }

    // The message list: stored messages by seq, then the outbox, then refused messages.
    this.log.setAttribute("aria-label", tr("log"));
    const stick = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < NEAR_BOTTOM_PX;
    const sorted = c.sorted();
    const lastRead = lastReadSeq(sorted, c.staffRead);
    const want: HTMLElement[] = [];
    for (const m of sorted) {
      const kind = m.author_kind === "consultant" || m.author_kind === "reader" || m.author_kind === "bot" ? m.author_kind : "system";
      const a = m.attachment;
      const body = a ? (b: HTMLElement) => this.card(b, m.seq, a) : m.body;
      want.push(this.bubble(`s${m.seq}`, kind, this.author(m), body, m.seq === lastRead ? tr("read") : "", m.created_at));
    }
    // A message already stored (learned through `resume` or an event before its own
    // acknowledgement came back) is shown once, as stored.
    for (const o of unsent(sorted, c.outbox)) {
      const st = c.conn === "connected" ? tr("sending") : tr("queued");
      want.push(this.bubble(`o${o.cmid}`, "reader pending", tr("you"), o.body, st));
    }
    for (const f of c.failed) {
      want.push(this.bubble(`f${f.cmid}`, "reader failed", tr("you"), f.body, `${tr("failed")}：${this.errorText(f.error)}`));
    }
    // Files on their way (one already stored, same client_msg_id, is shown once, as stored).
    const stored = new Set(sorted.map((m) => m.client_msg_id));
    for (const u of c.uploads) if (!stored.has(u.cmid)) want.push(this.uploadCard(u));
    const keep = new Set(want);
    for (const [k, el] of this.items) {
      if (!keep.has(el)) {
        el.remove();
        this.items.delete(k);
      }
    }
    let prev: ChildNode | null = null;
    for (const el of want) {
      const at: ChildNode | null = prev ? prev.nextSibling : this.log.firstChild;
      if (el !== at) this.log.insertBefore(el, at);
      prev = el;
    }
    if (stick) this.log.scrollTop = this.log.scrollHeight;

    text(this.typing, c.consultantTyping ? tr("typing") : "");
    this.endbar.hidden = !ended || form;
    // A chat a consultant served: the rating and the reader's copy, under the "ended" bar.
    this.after.el.hidden = !ended || form || !c.served;
    if (!this.after.el.hidden) this.after.render();
    text(this.endText, ended);
    text(this.newBtn, tr("newChat"));
    text(this.alert, this.notice);

    const closed = c.ended || c.conn === "fatal";
    this.input.disabled = closed;
    this.sendBtn.disabled = closed;
    // Files only in a chat under way, and not while the connection is lost.
    const lim = c.limits;
    this.attBtn.hidden = !c.active || !lim?.accept.length;
    this.attBtn.disabled = !c.canAttach;
    this.attBtn.setAttribute("aria-label", tr("attach"));
    this.attBtn.title = tr("attach");
    if (lim && this.fileIn.accept !== acceptOf(lim)) this.fileIn.accept = acceptOf(lim);
    this.input.setAttribute("aria-label", tr("input"));
    this.input.placeholder = tr("placeholder");
    text(this.sendBtn, tr("send"));
  }
}

/** The attach button's paper clip (an SVG, drawn with the button's colour). */
function clip(): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  const path = document.createElementNS(ns, "path");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  path.setAttribute("d", "M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5");
  svg.append(path);
  return svg;
}
