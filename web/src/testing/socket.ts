// For unit tests only (never imported by the apps): a stand-in for a socket.io-client Socket.
// A test installs it with
//   vi.mock("socket.io-client", async () => (await import("../testing/socket")).socketModule);
// and answers each acknowledged emit through `answer` (by default the one given to `answerWith`,
// which a test sets before the client connects), which may return a promise (to hold the
// acknowledgement back) or NO_ANSWER (the request times out).
type Handler = (...args: unknown[]) => void;
type Answer = (event: string, payload: Record<string, unknown>) => unknown;

let deskAnswer: Answer = () => ({ ok: true });

/** How the desk answers the sockets made from now on. */
export function answerWith(answer: Answer): void {
  deskAnswer = answer;
}

export const NO_ANSWER = Symbol("no answer");

export interface Emitted {
  event: string;
  payload: Record<string, unknown>;
}

export class FakeSocket {
  connected = false;
  active = true;
  /** Every acknowledged emit, in order. */
  readonly emitted: Emitted[] = [];
  /** Volatile emits (typing), in order. */
  readonly volatileEmitted: Emitted[] = [];
  answer: Answer = deskAnswer;
  private handlers = new Map<string, Handler[]>();
  readonly io = { on: (_event: string, _fn: Handler) => {} };
  readonly volatile = {
    emit: (event: string, payload: Record<string, unknown>) => {
      this.volatileEmitted.push({ event, payload });
    },
  };

  constructor(
    readonly url: string,
    readonly options: Record<string, unknown>,
  ) {}

  on(event: string, fn: Handler): this {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), fn]);
    return this;
  }

  off(): this {
    this.handlers.clear();
    return this;
  }

  /** Deliver a server event (or connect/disconnect) to the client's handlers. */
  fire(event: string, ...args: unknown[]): void {
    for (const fn of this.handlers.get(event) ?? []) fn(...args);
  }

  connect(): this {
    this.connected = true;
    this.fire("connect");
    return this;
  }

  disconnect(): this {
    this.connected = false;
    return this;
  }

  /** The network drops: the client sees a disconnect it did not ask for. */
  drop(): void {
    this.connected = false;
    this.fire("disconnect", "transport close");
  }

  timeout(_ms: number) {
    return {
      emit: (event: string, payload: Record<string, unknown>, cb: (err: Error | null, reply?: unknown) => void) => {
        this.emitted.push({ event, payload });
        void Promise.resolve(this.answer(event, payload)).then((reply) => {
          if (reply === NO_ANSWER) cb(new Error("operation has timed out"));
          else cb(null, reply);
        });
      },
    };
  }

  /** The acknowledged emits of one event. */
  sent(event: string): Record<string, unknown>[] {
    return this.emitted.filter((e) => e.event === event).map((e) => e.payload);
  }
}

/** The sockets made so far, newest last. */
export const sockets: FakeSocket[] = [];

export const socketModule = {
  io(url: string, options: Record<string, unknown>): FakeSocket {
    const s = new FakeSocket(url, options);
    sockets.push(s);
    return s;
  },
};

/** Let pending promise callbacks (acknowledgements and what they trigger) run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
