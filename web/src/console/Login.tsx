// The sign-in screen: POST /api/login sets the desk_session cookie.
import { useState } from "preact/hooks";
import * as api from "./api";
import { apiErrorText } from "./errors";
import { t } from "./i18n";
import { unlockAudio } from "./notify";

export function Login(props: { notice?: string; onDone: () => void; onLang: () => void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    unlockAudio();
    setBusy(true);
    setError(null);
    try {
      await api.login(username.trim(), password);
      setPassword("");
      props.onDone();
    } catch (err) {
      if (err instanceof api.ApiError && err.error.code === "login_failed") {
        setError(t("loginFailed"));
      } else if (err instanceof api.ApiError && err.error.code === "origin_not_allowed") {
        setError(t("loginForbidden"));
      } else if (err instanceof api.ApiError && err.status === 0) {
        setError(t("networkError"));
      } else {
        setError(t("loginError", { message: apiErrorText(err) }));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form class="login-box" onSubmit={submit} aria-labelledby="login-title">
        <div class="login-head">
          <h1 id="login-title">
            {t("appTitle")}
            <small>{t("loginTitle")}</small>
          </h1>
          <button type="button" class="link" onClick={props.onLang} title={t("languageTitle")}>
            {t("language")}
          </button>
        </div>
        {props.notice && (
          <p class="notice" role="status">
            {props.notice}
          </p>
        )}
        <label>
          {t("username")}
          <input
            name="username"
            autocomplete="username"
            required
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </label>
        <label>
          {t("password")}
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t("loggingIn") : t("login")}
        </button>
      </form>
    </main>
  );
}
