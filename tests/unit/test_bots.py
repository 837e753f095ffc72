"""The bots' pure parts: the wait estimate, the waiting bot's rules, and the templates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bots.config import DEFAULT_BOT_SETTINGS, parse_bot_settings
from bots.estimate import WaitEstimate, expected_wait, mean_handling
from bots.runtime import FIRST_TELL_SECONDS, decide, estimate_for
from bots.texts import TEMPLATES, check_template, render
from desk.models import BotMark
from desk.shared.base import Presence, QueueEntry


def person(cid: int, lib: int, cap: int = 2, load: int = 0, langs: tuple[str, ...] = ("zh-CN",)):
    return Presence(cid, lib, langs, cap, "online", True, 1000.0, 0.0, None, load)


def entry(cid: int, lib: int = 1, at: float = 900.0, lang: str = "zh-CN") -> QueueEntry:
    return QueueEntry(cid, lib, lib, lang, at)


@pytest.mark.parametrize(
    ("position", "slots", "free", "handling", "want"),
    [
        (1, 0, 0, 300.0, None),  # nobody online
        (1, 4, 1, 300.0, 0.0),  # a free slot: about to be routed
        (1, 4, 0, 300.0, 75.0),  # next in line: one of 4 slots frees every 75 s
        (5, 4, 0, 300.0, 375.0),
        (5, 4, 2, 300.0, 225.0),  # two free slots serve the first two
    ],
)
def test_expected_wait(position: int, slots: int, free: int, handling: float, want: float | None):
    assert expected_wait(position, slots, free, handling) == want


def test_mean_handling_caps_outliers_and_falls_back() -> None:
    assert mean_handling([]) == 360.0
    assert mean_handling([], 100.0) == 100.0
    # A chat left open for a day counts as four times the median, no more.
    assert mean_handling([60.0] * 9 + [100_000.0]) == (9 * 60.0 + 240.0) / 10
    assert mean_handling([100.0, 300.0]) == 200.0


def test_minutes_round_up_and_never_say_zero() -> None:
    assert WaitEstimate(1, 0.0).minutes == 1
    assert WaitEstimate(1, 61.0).minutes == 2
    assert WaitEstimate(1, None).minutes is None


def test_position_counts_the_same_library_and_language_only() -> None:
    queue = [entry(1), entry(2, lib=2), entry(3, lang="en"), entry(4)]
    people = [person(10, 1, cap=2, load=2)]
    est = estimate_for(queue[3], queue, people, 1000.0, overflow_delay=60.0, handling=300.0)
    assert est.position == 2
    assert est.seconds == 2 * 300.0 / 2


def test_overflow_counts_other_libraries_consultants_once_due() -> None:
    queue = [entry(1, at=900.0)]
    people = [person(10, 1, cap=1, load=1), person(20, 2, cap=3, load=3)]
    early = estimate_for(queue[0], queue, people, 930.0, overflow_delay=60.0, handling=400.0)
    late = estimate_for(queue[0], queue, people, 1000.0, overflow_delay=60.0, handling=400.0)
    assert early.seconds == 400.0  # only the home library's one slot
    assert late.seconds == 100.0  # four slots alliance-wide


def test_nobody_speaking_the_language_means_no_estimate() -> None:
    queue = [entry(1, lang="en")]
    est = estimate_for(queue[0], queue, [person(10, 1)], 1000.0, 60.0, 300.0)
    assert est.seconds is None


def mark(position: int | None, minutes: int | None, offered: bool = False) -> BotMark:
    return BotMark(
        consultation_id=1,
        told_at=datetime(2026, 1, 1, tzinfo=UTC),
        position=position,
        minutes=minutes,
        offered_form=offered,
    )


def test_the_first_word_waits_for_routing_then_says_the_place() -> None:
    est = WaitEstimate(3, 300.0)
    assert decide(None, est, FIRST_TELL_SECONDS - 1, None, 10, 120).key is None
    told = decide(None, est, FIRST_TELL_SECONDS, None, 10, 120)
    assert (told.key, told.position, told.minutes) == ("queue_position", 3, 5)
    assert decide(None, WaitEstimate(1, 60.0), 30, None, 10, 120).key == "queue_next"


def test_updates_are_calm_and_only_for_meaningful_changes() -> None:
    # Within the calm interval: silent even though the place moved.
    assert decide(mark(3, 5), WaitEstimate(2, 180.0), 100, 60, 10, 120).key is None
    # After it: a moved place is news...
    assert decide(mark(3, 5), WaitEstimate(2, 180.0), 300, 130, 10, 120).key == "queue_position"
    # ...the same place and about the same wait is not.
    assert decide(mark(3, 5), WaitEstimate(3, 290.0), 300, 600, 10, 120).key is None
    # A wait that grew by 2+ minutes and a quarter is.
    assert decide(mark(3, 5), WaitEstimate(3, 480.0), 300, 600, 10, 120).key == "queue_position"


def test_the_bot_speaks_again_when_someone_is_back_after_nobody_online() -> None:
    told = decide(mark(3, None, offered=True), WaitEstimate(3, 30.0), 300, 200, 10, 120)
    assert told.key == "queue_position" and told.minutes == 1


def test_long_wait_and_nobody_online_offer_the_form_service_once() -> None:
    told = decide(None, WaitEstimate(9, 15 * 60.0), 0, None, 10, 120)
    assert (told.key, told.offered_form) == ("long_wait", True)
    assert decide(mark(9, 15, offered=True), WaitEstimate(9, 900.0), 60, 30, 10, 120).key is None
    told = decide(None, WaitEstimate(1, None), 0, None, 10, 120)
    assert (told.key, told.offered_form) == ("nobody_online", True)
    assert decide(mark(1, None, offered=True), WaitEstimate(1, None), 600, 600, 10, 120).key is None


def test_nobody_online_is_said_when_everyone_leaves_after_the_long_wait_offer() -> None:
    # The reader was told 15 minutes and offered the form; then every consultant left.
    told = decide(mark(9, 15, offered=True), WaitEstimate(9, None), 900, 300, 10, 120)
    assert (told.key, told.minutes, told.offered_form) == ("nobody_online", None, True)
    # Not within the calm interval, and not twice.
    assert decide(mark(9, 15, offered=True), WaitEstimate(9, None), 900, 60, 10, 120).key is None
    assert decide(mark(9, None, offered=True), WaitEstimate(9, None), 900, 900, 10, 120).key is None


def test_every_default_template_renders_in_both_languages() -> None:
    for key, (allowed, texts) in TEMPLATES.items():
        assert set(texts) == {"zh-CN", "en"}
        for lang, text in texts.items():
            check_template(key, text)
            out = render(key, lang, {name: "3" for name in allowed})
            assert "{" not in out


def test_a_bad_override_is_refused_and_falls_back_to_the_default() -> None:
    with pytest.raises(ValueError, match="unknown placeholder"):
        check_template("greeting", "欢迎 {name}")
    with pytest.raises(ValueError):
        check_template("greeting", "欢迎 {library")
    out = render("greeting", "zh-CN", {"library": "某馆"}, override="欢迎 {nope}")
    assert out == TEMPLATES["greeting"][1]["zh-CN"].format(library="某馆")
    assert (
        render("greeting", "en-GB", {"library": "X"}, override="Hi from {library}") == "Hi from X"
    )


def test_stored_settings_keep_what_is_valid() -> None:
    assert parse_bot_settings(None) == DEFAULT_BOT_SETTINGS
    got = parse_bot_settings({"greeting": False, "long_wait_minutes": -3, "junk": 1})
    assert got.greeting is False and got.long_wait_minutes == 10
