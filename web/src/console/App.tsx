// Top level: GET /api/me decides between the sign-in screen and the console.
import { useEffect, useState } from "preact/hooks";
import * as api from "./api";
import { Console } from "./Console";
import { type Lang, lang, setLang, t } from "./i18n";
import { Login } from "./Login";
import type { Me } from "./types";

type Phase = { kind: "loading" } | { kind: "login"; notice?: string } | { kind: "console"; me: Me };

export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: "loading" });
  const [, setLangState] = useState<Lang>(lang());

  const switchLang = () => {
    const next: Lang = lang() === "en" ? "zh-CN" : "en";
    setLang(next);
    setLangState(next);
  };

  const check = async (notice?: string) => {
    try {
      const me = await api.me();
      setPhase(me ? { kind: "console", me } : { kind: "login", notice });
    } catch {
      setPhase({ kind: "login", notice: t("networkError") });
    }
  };

  useEffect(() => {
    void check();
  }, []);

  useEffect(() => {
    document.title = t("appTitle") + " · " + t("appSubtitle");
  }, [phase.kind, lang()]);

  if (phase.kind === "loading") {
    return (
      <p class="loading" role="status">
        {t("conn_connecting")}
      </p>
    );
  }
  if (phase.kind === "login") {
    return <Login notice={phase.notice} onDone={() => void check()} onLang={switchLang} />;
  }
  return (
    <Console
      key={phase.me.id}
      me={phase.me}
      onLang={switchLang}
      onSignedOut={(notice) => setPhase({ kind: "login", notice })}
    />
  );
}
