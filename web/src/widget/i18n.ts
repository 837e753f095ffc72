// Every text the reader sees, Chinese first. `{name}` placeholders are filled by `t()`.
export type Lang = "zh-CN" | "en";

const zh = {
  launcher: "在线咨询",
  title: "在线咨询",
  dialog: "{lib} 在线咨询",
  minimize: "收起咨询窗口",
  switchLang: "English",
  switchLangLabel: "Switch to English",
  end: "结束咨询",
  confirmEnd: "确定结束本次咨询吗？",
  confirmYes: "结束",
  confirmNo: "继续咨询",
  input: "输入消息",
  placeholder: "请输入您的问题（Enter 发送，Shift+Enter 换行）",
  send: "发送",
  log: "咨询记录",
  welcome: "您好！欢迎咨询{lib}。请直接输入您的问题，咨询员会尽快为您解答。",
  phone: "也可以电话咨询：{phone}",
  onlyLangs: "本馆提供以下语种的咨询：{langs}。",
  connecting: "正在连接咨询台…",
  reconnecting: "连接已中断，正在重新连接…",
  offline: "网络已断开。您写的消息会在恢复联网后发送。",
  reconnected: "已重新连接。",
  fatal: "本网站暂未开通在线咨询。",
  waiting: "正在为您联系咨询员，请稍候…",
  assigned: "{name}正在为您解答",
  paren: "（{x}）",
  typing: "咨询员正在输入…",
  endedReader: "您已结束本次咨询。",
  endedConsultant: "咨询员已结束本次咨询。",
  endedSystem: "由于长时间未连接，本次咨询已结束。",
  ended: "本次咨询已结束。",
  newChat: "开始新的咨询",
  you: "我",
  consultant: "咨询员",
  system: "系统消息",
  bot: "咨询台助手",
  sending: "发送中…",
  queued: "尚未发送",
  failed: "未发送",
  read: "已读",
  unread: "{n} 条新消息",
  message_too_long: "消息太长了（最多 {limit} 字），请缩短后再发送。",
  empty_message: "不能发送空白消息。",
  language_not_served: "本馆暂不提供该语种的咨询。可用语种：{langs}。",
  consultation_ended: "本次咨询已结束，这条消息没有发出。",
  consultation_not_found: "找不到这次咨询，请开始新的咨询。",
  cannotEnd: "现在无法结束咨询，请稍后再试。",
  error: "出了点问题，消息没有发出（{code}）。",
  "lang:zh": "中文",
  "lang:en": "英文",
};

type Key = keyof typeof zh;

const en: Record<Key, string> = {
  launcher: "Ask a librarian",
  title: "Live help",
  dialog: "{lib} live help",
  minimize: "Minimize the chat window",
  switchLang: "中文",
  switchLangLabel: "切换到中文",
  end: "End chat",
  confirmEnd: "End this chat?",
  confirmYes: "End",
  confirmNo: "Keep chatting",
  input: "Your message",
  placeholder: "Type your question (Enter sends, Shift+Enter adds a line)",
  send: "Send",
  log: "Conversation",
  welcome: "Hello! Ask {lib} your question and a librarian will answer as soon as possible.",
  phone: "You can also call us: {phone}",
  onlyLangs: "This library answers in: {langs}.",
  connecting: "Connecting to the desk…",
  reconnecting: "Connection lost. Reconnecting…",
  offline: "You are offline. Your messages will be sent when you are back online.",
  reconnected: "Connected again.",
  fatal: "Live help is not available on this website.",
  waiting: "Finding a librarian for you. Please wait…",
  assigned: "{name} is answering you",
  paren: " ({x})",
  typing: "The librarian is typing…",
  endedReader: "You ended this chat.",
  endedConsultant: "The librarian ended this chat.",
  endedSystem: "This chat ended because you were away for a long time.",
  ended: "This chat has ended.",
  newChat: "Start a new chat",
  you: "You",
  consultant: "Librarian",
  system: "Desk",
  bot: "Desk assistant",
  sending: "Sending…",
  queued: "Not sent yet",
  failed: "Not sent",
  read: "Read",
  unread: "{n} new messages",
  message_too_long: "The message is too long (at most {limit} characters). Please shorten it.",
  empty_message: "An empty message cannot be sent.",
  language_not_served: "This library does not answer in that language. Available: {langs}.",
  consultation_ended: "This chat has ended; the message was not sent.",
  consultation_not_found: "This chat was not found. Please start a new chat.",
  cannotEnd: "The chat cannot be ended right now. Please try again.",
  error: "Something went wrong; the message was not sent ({code}).",
  "lang:zh": "Chinese",
  "lang:en": "English",
};

const TABLES: Record<Lang, Record<Key, string>> = { "zh-CN": zh, en };

export type TextKey = Key;

export function t(lang: Lang, key: Key, vars: Record<string, string | number> = {}): string {
  return TABLES[lang][key].replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ""));
}

/** A language tag's display name, e.g. "zh-CN" -> 中文 / Chinese. */
export function langName(lang: Lang, tag: string): string {
  const base = tag.split("-")[0].toLowerCase();
  return base === "zh" || base === "en" ? t(lang, `lang:${base}` as Key) : tag;
}
