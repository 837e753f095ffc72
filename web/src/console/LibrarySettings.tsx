// 服务时间与电话: the library's service hours (time zone, up to 4 spans a weekday, closed dates),
// phone, and the files its chats take (largest size, kinds). Supervisors and admins edit;
// everyone else sees them read-only.
import { useEffect, useState } from "preact/hooks";
import { forgetLimits } from "./delivery-api";
import { Dialog } from "./Dialog";
import {
  addClosed,
  addSpan,
  DAYS,
  draftFromApi,
  draftToApi,
  type HoursDraft,
  hoursProblemKey,
  MAX_SPANS,
  opensAtText,
  removeClosed,
  removeSpan,
  setSpan,
} from "./hours-form";
import { lang } from "./i18n";
import { settingsErrorText, st } from "./i18n-settings";
import * as api from "./settings-api";
import { FAMILIES, type FilesDraft, fieldProblems, filesChange, filesDraft, problemsBy } from "./settings-forms";
import type { LibrarySettings as Settings } from "./settings-types";


const COMMON_ZONES = ["Asia/Shanghai", "Asia/Hong_Kong", "Asia/Macau", "Asia/Taipei", "Asia/Urumqi", "UTC"];

function zones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  try {
    return [...new Set([...COMMON_ZONES, ...(intl.supportedValuesOf?.("timeZone") ?? [])])];
  } catch {
    return COMMON_ZONES;
  }
}

/** Once the page has re-rendered, focus what `selector` finds in it. */
function focusSoon(selector: string) {
  window.setTimeout(() => document.querySelector<HTMLElement>(`.hours-page ${selector}`)?.focus(), 0);
}

function Problems(props: { id: string; list?: string[] }) {
  if (!props.list?.length) return null;
  return (
    <span id={props.id} class="field-error error small" role="alert">
      {props.list.join("；")}
    </span>
  );
}

export function LibrarySettings(props: { onClose: () => void }) {
  const [data, setData] = useState<Settings | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [draft, setDraft] = useState<HoursDraft>(draftFromApi({}));
  const [phone, setPhone] = useState("");
  const [newDate, setNewDate] = useState("");
  const [problems, setProblems] = useState<Record<string, string[]>>({});
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirmClear, setConfirmClear] = useState(false);
  const [files, setFiles] = useState<FilesDraft | null>(null);

  const show = (r: Settings) => {
    setData(r);
    setDraft(draftFromApi(r.service_hours));
    setPhone(r.phone ?? "");
    setFiles(filesDraft(r.file_limits));
  };

  useEffect(() => {
    api
      .librarySettings()
      .then(show)
      .catch((e) => setLoadError(st("loadFailed", { message: settingsErrorText(e) })));
  }, []);

  const put = async (change: Parameters<typeof api.saveLibrarySettings>[0], done: string) => {
    if (busy) return;
    setBusy(true);
    setMessage(null);
    setProblems({});
    try {
      show(await api.saveLibrarySettings(change));
      if (change.file_limits) forgetLimits(); // the send dialog reads them again
      if (confirmClear) {
        setConfirmClear(false);
        focusSoon(".hours-clear"); // the confirmation that had the focus is gone
      }
      setMessage({ text: done, error: false });
    } catch (e) {
      setProblems(
        problemsBy(fieldProblems(e), (p) =>
          p.field.startsWith("file_limits") ? "file_limits" : hoursProblemKey(p.field, p.problem),
        ),
      );
      setMessage({ text: st("notSaved", { message: settingsErrorText(e) }), error: true });
    } finally {
      setBusy(false);
    }
  };

  const save = (e: Event) => {
    e.preventDefault();
    const fileLimits = filesChange(files, data?.file_limits);
    if (fileLimits === "invalid") {
      setMessage(null);
      setProblems({ file_limits: [st("filesMaxInvalid", { max: data?.file_limits?.desk_max_mb ?? 1 })] });
      focusSoon("#files-max");
      return;
    }
    void put(
      { service_hours: draftToApi(draft), phone: phone.trim(), ...(fileLimits ? { file_limits: fileLimits } : {}) },
      st("saved"),
    );
  };

  const ro = data !== null && !data.can_edit;

  return (
    <Dialog title={st("page_hours")} onClose={props.onClose}>
      <div class="settings-page hours-page">
        {loadError && (
          <p class="error" role="alert">
            {loadError}
          </p>
        )}
        {!data && !loadError && <p class="muted">{st("loading")}</p>}
        {data && (
          <form class="hours-form" onSubmit={save}>
            <p class="muted small">{st("hoursIntro")}</p>
            <p
              class={`hours-now ${data.open_now === true ? "open" : data.open_now === false ? "closed" : "none"}`}
              data-testid="hours-now"
            >
              {data.open_now === true
                ? st("hoursNowOpen")
                : data.open_now === false
                  ? data.opens_at
                    ? st("hoursNowClosed", { when: opensAtText(data.opens_at, lang()) })
                    : st("hoursNowClosedLong")
                  : st("hoursNowNone")}
            </p>
            {ro && (
              <p class="notice" role="note">
                {st("readOnly")}
              </p>
            )}

            <div class="field">
              <label for="hours-timezone">{st("hoursTimezone")}</label>
              <input
                id="hours-timezone"
                name="timezone"
                list="hours-zones"
                value={draft.timezone}
                readOnly={ro}
                autocomplete="off"
                aria-invalid={problems.timezone ? true : undefined}
                aria-describedby={problems.timezone ? "hours-timezone-error" : undefined}
                onInput={(e) => setDraft({ ...draft, timezone: e.currentTarget.value })}
              />
              <Problems id="hours-timezone-error" list={problems.timezone} />
            </div>
            {!ro && (
              <datalist id="hours-zones">
                {zones().map((z) => (
                  <option key={z} value={z} />
                ))}
              </datalist>
            )}

            <fieldset class="hours-week">
              <legend>{st("hoursWeekly")}</legend>
              <p id="hours-format" class="muted small">
                {st("hoursFormat")}
              </p>
              {DAYS.map((day) => {
                const name = st(`day_${day}`);
                const spans = draft.weekly[day];
                const errId = `hours-${day}-error`;
                const bad = problems[`weekly.${day}`];
                return (
                  <div key={day} class="hours-day" role="group" aria-labelledby={`hours-${day}-name`} data-day={day}>
                    <span id={`hours-${day}-name`} class="hours-day-name">
                      {name}
                    </span>
                    <div class="hours-spans">
                      {spans.length === 0 && <span class="muted">{st("hoursDayClosed")}</span>}
                      {spans.map(([a, b], i) => (
                        <span key={i} class="hours-span">
                          <input
                            class="hhmm"
                            inputMode="numeric"
                            placeholder="08:30"
                            maxLength={5}
                            size={5}
                            value={a}
                            readOnly={ro}
                            aria-label={st("hoursSpanStart", { day: name, n: i + 1 })}
                            aria-invalid={bad ? true : undefined}
                            aria-describedby={bad ? errId : "hours-format"}
                            onInput={(e) => setDraft(setSpan(draft, day, i, 0, e.currentTarget.value))}
                          />
                          <span aria-hidden="true">–</span>
                          <input
                            class="hhmm"
                            inputMode="numeric"
                            placeholder="17:00"
                            maxLength={5}
                            size={5}
                            value={b}
                            readOnly={ro}
                            aria-label={st("hoursSpanEnd", { day: name, n: i + 1 })}
                            aria-invalid={bad ? true : undefined}
                            aria-describedby={bad ? errId : "hours-format"}
                            onInput={(e) => setDraft(setSpan(draft, day, i, 1, e.currentTarget.value))}
                          />
                          {!ro && (
                            <button
                              type="button"
                              class="link danger"
                              aria-label={st("hoursRemoveSpan", { day: name, n: i + 1 })}
                              title={st("hoursRemoveSpan", { day: name, n: i + 1 })}
                              onClick={() => {
                                setDraft(removeSpan(draft, day, i));
                                focusSoon(`[data-day="${day}"] .hours-add-span`);
                              }}
                            >
                              ×
                            </button>
                          )}
                        </span>
                      ))}
                      {!ro && (
                        <button
                          type="button"
                          class="link hours-add-span"
                          aria-label={st("hoursAddSpanTo", { day: name })}
                          title={spans.length >= MAX_SPANS ? st("hoursMaxSpans") : undefined}
                          disabled={spans.length >= MAX_SPANS}
                          onClick={() => {
                            setDraft(addSpan(draft, day));
                            window.setTimeout(() => {
                              const starts = document.querySelectorAll<HTMLInputElement>(`[data-day="${day}"] .hours-span input`);
                              starts[starts.length - 2]?.focus(); // the new span's start
                            }, 0);
                          }}
                        >
                          + {st("hoursAddSpan")}
                        </button>
                      )}
                    </div>
                    <Problems id={errId} list={bad} />
                  </div>
                );
              })}
              <Problems id="hours-weekly-error" list={problems.weekly} />
            </fieldset>

            <fieldset class="hours-closed">
              <legend>{st("hoursClosed")}</legend>
              {draft.closed.length === 0 ? (
                <p class="muted small">{st("hoursNoClosed")}</p>
              ) : (
                <ul class="hours-dates">
                  {draft.closed.map((d) => (
                    <li key={d} data-date={d}>
                      <span>{d}</span>
                      {!ro && (
                        <button
                          type="button"
                          class="link danger"
                          aria-label={st("hoursRemoveDate", { date: d })}
                          title={st("hoursRemoveDate", { date: d })}
                          onClick={() => {
                            setDraft({ ...draft, closed: removeClosed(draft.closed, d) });
                            focusSoon(".hours-add-date input");
                          }}
                        >
                          ×
                        </button>
                      )}
                    </li>
                  ))}
                </ul>
              )}
              {!ro && (
                <div class="hours-add-date">
                  <label class="block">
                    {st("hoursNewDate")}
                    <input
                      type="date"
                      value={newDate}
                      onInput={(e) => setNewDate(e.currentTarget.value)}
                      onKeyDown={(e) => {
                        if (e.key === "Enter") {
                          // Enter adds the date rather than saving the whole form.
                          e.preventDefault();
                          setDraft({ ...draft, closed: addClosed(draft.closed, newDate) });
                          setNewDate("");
                        }
                      }}
                    />
                  </label>
                  <button
                    type="button"
                    disabled={!newDate}
                    onClick={() => {
                      setDraft({ ...draft, closed: addClosed(draft.closed, newDate) });
                      setNewDate("");
                    }}
                  >
                    {st("hoursAddDate")}
                  </button>
                </div>
              )}
              <Problems id="hours-closed-error" list={problems.closed} />
            </fieldset>

            <div class="field">
              <label for="hours-phone">{st("hoursPhone")}</label>
              <input
                id="hours-phone"
                name="phone"
                type="tel"
                maxLength={64}
                value={phone}
                readOnly={ro}
                aria-invalid={problems.phone ? true : undefined}
                aria-describedby={problems.phone ? "hours-phone-error hours-phone-hint" : "hours-phone-hint"}
                onInput={(e) => setPhone(e.currentTarget.value)}
              />
              <span id="hours-phone-hint" class="muted small">
                {st("hoursPhoneHint")}
              </span>
              <Problems id="hours-phone-error" list={problems.phone} />
            </div>

            {files && data.file_limits && (
              <fieldset class="files-limits" data-testid="file-limits">
                <legend>{st("filesTitle")}</legend>
                <p class="muted small">{st("filesIntro")}</p>
                <div class="field">
                  <label for="files-max">{st("filesMaxMb")}</label>
                  <input
                    id="files-max"
                    name="max_mb"
                    inputMode="numeric"
                    maxLength={5}
                    size={6}
                    value={files.max}
                    readOnly={ro}
                    class="files-max"
                    aria-invalid={problems.file_limits ? true : undefined}
                    aria-describedby={problems.file_limits ? "files-error files-max-hint" : "files-max-hint"}
                    onInput={(e) => setFiles({ ...files, max: e.currentTarget.value })}
                  />
                  <span id="files-max-hint" class="muted small">
                    {st("filesMaxHint", { max: data.file_limits.desk_max_mb })}
                  </span>
                </div>
                <fieldset class="files-types">
                  <legend>{st("filesTypes")}</legend>
                  {FAMILIES.map((f) => (
                    <label key={f} class="files-family" data-family={f}>
                      <input
                        type="checkbox"
                        checked={files.types.includes(f)}
                        disabled={ro}
                        onChange={(e) => {
                          const on = e.currentTarget.checked;
                          setFiles({ ...files, types: on ? [...files.types, f] : files.types.filter((x) => x !== f) });
                        }}
                      />
                      <span>
                        {st(`family_${f}`)}
                        <span class="files-exts muted small"> {(data.file_limits?.families[f] ?? []).join(" ")}</span>
                        {f === "archive" && <span class="muted small files-note">{st("familyArchiveNote")}</span>}
                      </span>
                    </label>
                  ))}
                  {files.types.length === 0 && (
                    <p class="warn small" role="note">
                      {st("filesNone")}
                    </p>
                  )}
                </fieldset>
                <Problems id="files-error" list={problems.file_limits} />
              </fieldset>
            )}

            {message && (
              <p class={message.error ? "error" : "muted"} role={message.error ? "alert" : "status"}>
                {message.text}
              </p>
            )}
            <Problems id="hours-form-error" list={problems.form} />
            {!ro && (
              <div class="dialog-actions wrap">
                <button type="submit" class="primary" aria-disabled={busy || undefined}>
                  {busy ? st("saving") : st("save")}
                </button>
                {confirmClear ? (
                  <span class="hours-clear-confirm" role="group" aria-label={st("hoursClear")}>
                    <span class="small">{st("hoursClearAsk")}</span>{" "}
                    <button
                      type="button"
                      class="danger"
                      aria-disabled={busy || undefined}
                      onClick={() => void put({ clear_hours: true }, st("hoursCleared"))}
                    >
                      {st("hoursClearConfirm")}
                    </button>{" "}
                    <button
                      type="button"
                      onClick={() => {
                        setConfirmClear(false);
                        focusSoon(".hours-clear");
                      }}
                    >
                      {st("cancel")}
                    </button>
                  </span>
                ) : (
                  <button
                    type="button"
                    class="hours-clear"
                    onClick={() => {
                      setConfirmClear(true);
                      focusSoon(".hours-clear-confirm button");
                    }}
                  >
                    {st("hoursClear")}
                  </button>
                )}
              </div>
            )}
          </form>
        )}
      </div>
    </Dialog>
  );
}
