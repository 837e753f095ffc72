// Alerts for a new chat, a new message or a form-service reminder while the consultant looks
// elsewhere: a short beep made with WebAudio (no audio file) and a desktop notification without
// the message text. Mute silences both and is kept in localStorage.

const MUTE_KEY = "desk.console.muted";

let audio: AudioContext | null = null;
let muted = readMuted();

function readMuted(): boolean {
  try {
    return localStorage.getItem(MUTE_KEY) === "1";
  } catch {
    return false;
  }
}

export function isMuted(): boolean {
  return muted;
}

export function setMuted(value: boolean): void {
  muted = value;
  try {
    localStorage.setItem(MUTE_KEY, value ? "1" : "0");
  } catch {
    // Storage unavailable: the choice lasts for this page only.
  }
}

/** Browsers only let audio start after a user gesture: create (or resume) the context then. */
export function unlockAudio(): void {
  const Ctor =
    window.AudioContext ??
    (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
  if (!Ctor) return;
  try {
    if (!audio) audio = new Ctor();
    if (audio.state === "suspended") void audio.resume();
  } catch {
    audio = null;
  }
}

export function beep(kind: "chat" | "message"): void {
  if (muted || !audio || audio.state !== "running") return;
  const now = audio.currentTime;
  // A new chat gets two rising tones, a new message one short tone.
  const tones = kind === "chat" ? [660, 880] : [740];
  tones.forEach((freq, i) => {
    const ctx = audio as AudioContext;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.value = freq;
    const start = now + i * 0.18;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.2, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.15);
    osc.connect(gain).connect(ctx.destination);
    osc.start(start);
    osc.stop(start + 0.16);
  });
}

export function notificationsSupported(): boolean {
  return typeof window.Notification === "function";
}

export function notificationPermission(): NotificationPermission | "unsupported" {
  return notificationsSupported() ? Notification.permission : "unsupported";
}

/** Must be called from a user gesture (a click). */
export async function askNotificationPermission(): Promise<NotificationPermission | "unsupported"> {
  if (!notificationsSupported()) return "unsupported";
  try {
    return await Notification.requestPermission();
  } catch {
    return Notification.permission;
  }
}

/** The consultant is not looking at this page. */
export function pageInBackground(): boolean {
  return document.visibilityState !== "visible" || !document.hasFocus();
}

/**
 * A desktop notification, unless muted (the mute switch silences notifications as well as the
 * sound). For readers' privacy (norm 6 of live service) it carries a title only, such as
 * "新消息 · 示例市公共图书馆读者": never the text of a message or a question, which would show
 * on a locked or shared screen.
 */
export function desktopNotify(title: string, tag: string, onClick: () => void): void {
  if (muted || !notificationsSupported() || Notification.permission !== "granted") return;
  try {
    const n = new Notification(title, { tag, silent: true });
    n.onclick = () => {
      window.focus();
      onClick();
      n.close();
    };
  } catch {
    // Some platforms only allow notifications from a service worker; the beep still sounds.
  }
}
