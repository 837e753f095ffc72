// What the widget keeps in the host page's localStorage, namespaced by the desk's origin so two
// desks (or a test desk) never share a reader token. Storage may be unavailable (privacy modes,
// sandboxed frames): then the widget still works for the life of the page.

export interface OutItem {
  /** Client message id: the same id is resent until the desk acknowledges it. */
  cmid: string;
  body: string;
  /** The consultation it was written in; null means "open a consultation with it". */
  cid: number | null;
}

export interface Saved {
  cid: number | null;
  lastSeq: number;
  version: number;
  outbox: OutItem[];
  lang?: string;
  open?: boolean;
}

const memory = new Map<string, string>();

function get(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return memory.get(key) ?? null;
  }
}

function set(key: string, value: string | null): void {
  try {
    if (value === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, value);
  } catch {
    if (value === null) memory.delete(key);
    else memory.set(key, value);
  }
}

export class Store {
  private readonly prefix: string;

  constructor(deskOrigin: string, private readonly library: string) {
    this.prefix = `deskwidget:${deskOrigin}:`;
  }

  get token(): string | null {
    return get(this.prefix + "token");
  }

  set token(value: string | null) {
    set(this.prefix + "token", value);
  }

  load(): Saved {
    const empty: Saved = { cid: null, lastSeq: 0, version: 0, outbox: [] };
    try {
      const raw = get(this.prefix + "lib:" + this.library);
      const v = raw ? (JSON.parse(raw) as Partial<Saved>) : {};
      return {
        ...empty,
        ...v,
        outbox: Array.isArray(v.outbox)
          ? v.outbox.filter((o) => o && typeof o.cmid === "string" && typeof o.body === "string")
          : [],
      };
    } catch {
      return empty;
    }
  }

  save(s: Saved): void {
    set(this.prefix + "lib:" + this.library, JSON.stringify(s));
  }
}
