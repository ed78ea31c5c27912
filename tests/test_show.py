"""The show: a rundown written from the catalog, the show file, and the show on the agent's voice."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml

from agent.app.cli import main
from agent.rtc.voice_track import Floor
from agent.show import runner
from agent.show.rundown import (
    ShowError,
    bridge,
    load_rundown,
    parse_rundown,
    plan_rundown,
    segment_lines,
)
from agent.show.runner import Show
from knowledge.catalog import Catalog
from knowledge.facts import product_facts
from knowledge.loader import SAMPLE_CATALOG, load_catalog
from knowledge.text import CJK

RATE = 16000


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(SAMPLE_CATALOG)


def test_every_generated_line_passes_the_check_a_sellers_line_must_pass(catalog: Catalog) -> None:
    rundown = plan_rundown(catalog)
    assert len(rundown.segments) == 2 * len(catalog.products)
    written = [
        {"product": s.product_id, "language": s.language, "lines": segment_lines(catalog, product, s.language)}
        for s in rundown.segments
        if (product := catalog.product(s.product_id))
    ]
    checked = parse_rundown({"segments": written}, catalog)  # raises ShowError on any ungrounded line
    assert all(len(s.lines) >= 4 for s in checked.segments)


def test_a_segment_says_the_products_price_and_specs_in_its_language(catalog: Catalog) -> None:
    band = catalog.product("band-x2")
    zh, en = segment_lines(catalog, band, "zh"), segment_lines(catalog, band, "en")
    assert any("199" in line for line in zh) and any("199" in line for line in en)
    assert all(CJK.search(line) for line in zh)  # a Chinese segment reads no English-only sentence
    assert not any(CJK.search(line) for line in en)
    assert len(zh) <= 12 and all(len(line) < 200 for line in zh + en)


def test_no_line_comes_back_word_for_word_within_five_loops_and_the_facts_stay_as_they_are(catalog: Catalog) -> None:
    from agent.show.rundown import ANSWER_LEADS, LEADS

    for language in ("en", "zh"):
        for product in catalog.products:
            loops = [segment_lines(catalog, product, language, loop) for loop in range(5)]
            said = [line for lines in loops for line in lines]
            assert len(said) == len(set(said)), product.id  # five loops: about 75 minutes on this catalog
            assert segment_lines(catalog, product, language, 5) == loops[0]
            leads = sorted(LEADS[language] + ANSWER_LEADS[language], key=len, reverse=True)
            bare = [[next(line.removeprefix(lead) for lead in leads if line.startswith(lead)) for line in lines]
                    for lines in loops]  # fmt: skip
            statements = [f.statement for f in product_facts(catalog, product)]
            facts = [s.get(language) for s in statements if s.has(language)]
            for lines in bare:
                assert [line for line in lines if line in facts] == [line for line in bare[0] if line in facts]


def test_plan_writes_a_show_file_that_check_accepts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "plan", "--languages", "en"]) == 0
    text = capsys.readouterr().out
    (tmp_path / "show.yaml").write_text(text, encoding="utf-8")
    assert main(["show", "check", str(tmp_path / "show.yaml")]) == 0
    assert capsys.readouterr().out.startswith("ok: ")
    assert [s["language"] for s in yaml.safe_load(text)["segments"]] == ["en"] * 14


def test_a_bad_show_file_gets_every_problem_with_where_it_is(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "show.yaml"
    path.write_text(
        "segments:\n"
        "  - {product: band-x2, language: en, lines: ['The SmartBand X2 is only 99 yuan today!']}\n"
        "  - {product: no-such-thing, language: en}\n"
        "  - {product: band-x2, language: fr}\n"
        "  - {product: band-x2, language: zh, lines: ['智能手环X2今天只要199元。'], colour: red}\n",
        encoding="utf-8",
    )
    with pytest.raises(ShowError) as e:
        load_rundown(path, catalog)
    problems = e.value.problems
    assert len(problems) == 4, problems
    assert "segment 1, line 1: number not in the catalog facts: 99" in problems[0]
    assert "segment 2: product 'no-such-thing' is not in the catalog" in problems[1]
    assert "segment 3: language must be zh or en" in problems[2]
    assert "segment 4: unknown field(s) colour" in problems[3]
    path.write_text("segments: [unclosed", encoding="utf-8")
    with pytest.raises(ShowError, match="not valid YAML"):
        load_rundown(path, catalog)


def test_serve_refuses_a_bad_show_file_in_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "show.yaml").write_text("segments: []\n", encoding="utf-8")
    assert main(["serve", "--no-voice", "--composer", "catalog", "--show", str(tmp_path / "show.yaml")]) == 2
    assert "the show cannot run" in capsys.readouterr().err


# ---- on the air -----------------------------------------------------------------------------------


class Beeps:
    """A synthesizer whose every clause is a tone 10 ms per character long."""

    rate = RATE

    def synthesize(self, text: str, language: str, cancel: threading.Event | None = None) -> np.ndarray:
        return np.full(int(0.01 * len(text) * RATE), 0.5, dtype=np.float32)


def test_the_show_stops_for_the_room_answers_first_then_bridges_and_resumes_where_it_was(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "QUIET_S", 0.2)
    show = Show(plan_rundown(catalog, ("en",)), lambda: catalog, rate=RATE)
    busy = [False]
    floor = Floor(show, lambda: busy[0])
    said: list[str] = []
    on_stage: list[str] = []
    audible = [0]  # samples of show audio played

    async def play_until(condition: Callable[[], bool], limit_s: float = 20.0) -> list[float]:
        peaks = []
        deadline = time.monotonic() + limit_s
        while not condition():
            assert time.monotonic() < deadline, said
            frame = floor.read(RATE // 50)
            audible[0] += int(np.count_nonzero(frame))
            peaks.append(float(np.abs(frame).max()))
            await asyncio.sleep(0.002)
        return peaks

    async def run() -> tuple[list[float], int]:
        task = asyncio.ensure_future(show.run(Beeps(), floor.room_busy, on_stage.append, lambda t, _: said.append(t)))
        await play_until(lambda: len(said) == 2)
        start_of_second = audible[0]
        await play_until(lambda: audible[0] - start_of_second > 1600)  # 0.1 s into the second line
        busy[0] = True  # a viewer starts to ask
        held: list[float] = []
        for _ in range(30):
            frame = floor.read(RATE // 50)
            held.append(float(np.abs(frame).max()))
            await asyncio.sleep(0.002)
        busy[0] = False  # their answer is over
        await play_until(lambda: len(said) == 4)
        task.cancel()
        return held, audible[0]

    held, total = asyncio.run(run())
    product = catalog.products[0]
    lines = segment_lines(catalog, product, "en")
    assert on_stage[0] == product.id
    assert max(held) == 0.0  # silent while the room was busy
    assert said == [lines[0], lines[1], bridge(product, "en"), lines[2]]
    # everything before the third line was played once: the cut line went on from where it stopped
    played_before = sum(len(Beeps().synthesize(t, "en")) for t in said[:3])
    assert played_before <= total <= played_before + RATE // 50


async def _said_until(
    show: Show, floor: Floor, said: list[str], count: int, act: Callable[[], None] | None = None
) -> None:
    """Play the floor until `count` lines have begun; `act` runs once, as soon as the first line has begun."""
    deadline = time.monotonic() + 20
    acted = act is None
    while len(said) < count:
        assert time.monotonic() < deadline, said
        floor.read(RATE // 50)
        if not acted and said:
            act()  # type: ignore[misc]
            acted = True
        await asyncio.sleep(0.002)


def test_the_host_skips_a_segment_or_pushes_a_product_and_the_show_goes_there_at_once(catalog: Catalog) -> None:
    show = Show(plan_rundown(catalog, ("en",)), lambda: catalog, rate=RATE)
    floor = Floor(show)
    said: list[str] = []
    first, second, fifth = catalog.products[0], catalog.products[1], catalog.products[4]

    async def run() -> None:
        task = asyncio.ensure_future(show.run(Beeps(), floor.room_busy, on_line=lambda t, _: said.append(t)))
        await _said_until(show, floor, said, 2, show.skip)
        assert said[1] == segment_lines(catalog, second, "en")[0]  # the next product's hook, at once
        await _said_until(show, floor, said, 3, lambda: show.present(fifth.id))
        task.cancel()

    asyncio.run(run())
    assert said[0] == segment_lines(catalog, first, "en")[0]
    assert said[2] == segment_lines(catalog, fifth, "en")[0], said  # the pushed product, from its hook
    assert show.present("no-such-product") is False


class Stumbles(Beeps):
    """A voice that cannot say the second line it is given."""

    def __init__(self) -> None:
        self.calls = 0

    def synthesize(self, text: str, language: str, cancel: threading.Event | None = None) -> np.ndarray:
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("the voice failed on this line")
        return super().synthesize(text, language, cancel)


def test_a_line_the_voice_cannot_say_is_skipped_and_the_show_goes_on(catalog: Catalog) -> None:
    show = Show(plan_rundown(catalog, ("en",)), lambda: catalog, rate=RATE)
    floor = Floor(show)
    said: list[str] = []

    async def run() -> None:
        task = asyncio.ensure_future(show.run(Stumbles(), floor.room_busy, on_line=lambda t, _: said.append(t)))
        await _said_until(show, floor, said, 2)
        task.cancel()

    asyncio.run(run())
    lines = segment_lines(catalog, catalog.products[0], "en")
    assert said == [lines[0], lines[2]]  # the second line was lost, not the show


def test_new_viewers_are_welcomed_together_now_and_then_not_on_every_join(catalog: Catalog) -> None:
    show = Show(plan_rundown(catalog, ("en",)), lambda: catalog, rate=RATE)
    floor = Floor(show)
    said: list[str] = []

    def arrive() -> None:
        for name in ("Dana", "Eve", "Dana"):
            show.greet(name)

    async def run() -> None:
        task = asyncio.ensure_future(show.run(Beeps(), floor.room_busy, on_line=lambda t, _: said.append(t)))
        await _said_until(show, floor, said, 2, arrive)  # two join while the first line plays
        show.greet("Finn")  # and one more, soon after the welcome: waits for the next one
        await _said_until(show, floor, said, 4)
        task.cancel()

    asyncio.run(run())
    lines = segment_lines(catalog, catalog.products[0], "en")
    assert said == [lines[0], "Welcome, Dana and Eve!", lines[1], lines[2]], said
    show._greeted_at -= show.greet_every_s  # the next welcome is due: the one who waited, in Chinese
    assert show._welcome("zh") == "欢迎Finn来到直播间！"
    quiet = Show(plan_rundown(catalog, ("en",)), lambda: catalog, rate=RATE, greet_every_s=0)
    quiet.greet("Dana")
    assert quiet._welcome("en") is None  # a seller who wants no welcomes


def test_the_host_reorders_repeats_and_picks_a_segment_and_the_show_follows(catalog: Catalog) -> None:
    show = Show(plan_rundown(catalog, ("en",)), lambda: catalog, rate=RATE)
    floor = Floor(show)
    said: list[str] = []
    p = catalog.products
    published: list[dict] = []
    show.watchers_of_rundown.append(lambda: published.append(show.describe()))

    async def run() -> None:
        task = asyncio.ensure_future(show.run(Beeps(), floor.room_busy, on_line=lambda t, _: said.append(t)))
        # while the first product is presented, the third moves up to follow it
        await _said_until(show, floor, said, 2, lambda: show.reorder([0, 2, 1, *range(3, len(p))]))
        await _said_until(show, floor, said, 3, show.skip)
        await _said_until(show, floor, said, 4, show.repeat)
        await _said_until(show, floor, said, 5, lambda: show.go_to(4))
        task.cancel()

    asyncio.run(run())
    hook = lambda product: segment_lines(catalog, product, "en")[0]  # noqa: E731
    assert said[2] == hook(p[2]), said  # skipped to the segment now after the first: the third product
    assert said[3] == hook(p[2])  # repeated from its hook
    assert said[4] == hook(p[4])  # place 4 of the new order: the fifth product (0, 2, 1, 3, 4, ...)
    assert [s["product"] for s in published[-1]["segments"]][:3] == [p[0].id, p[2].id, p[1].id]
    assert published[-1]["current"] == 4 and published[-1]["segments"][4]["name"] == p[4].name.get("en")
    with pytest.raises(ValueError):
        show.reorder([0, 0, 1])
    with pytest.raises(ValueError):
        show.go_to(len(p))


def test_a_restarted_show_goes_on_at_its_segment_in_the_order_the_host_set(catalog: Catalog, tmp_path: Path) -> None:
    from agent.show.state import Position, ShowState

    rundown = plan_rundown(catalog, ("en",))
    file = tmp_path / "show.json"
    first = Show(rundown, lambda: catalog, rate=RATE, state=ShowState(file, rundown))
    floor = Floor(first)
    said: list[str] = []

    async def run() -> None:
        task = asyncio.ensure_future(first.run(Beeps(), floor.room_busy, on_line=lambda t, _: said.append(t)))
        await _said_until(first, floor, said, 1, lambda: first.reorder([1, 0, *range(2, len(rundown.segments))]))
        await _said_until(first, floor, said, 3, lambda: first.go_to(3))
        await _said_until(first, floor, said, 4)  # the first line of place 3 has been said to its end
        task.cancel()

    asyncio.run(run())
    again = Show(rundown, lambda: catalog, rate=RATE, state=ShowState(file, rundown))  # the process restarted
    assert again.order == first.order and again.order[:2] == [1, 0]
    assert again.position.segment == 3 and again.position.line >= 1  # not from the top: after what was said
    other = plan_rundown(catalog, ("zh",))  # the show file changed: its place does not apply
    assert Show(other, lambda: catalog, rate=RATE, state=ShowState(file, other)).position == Position()
    file.write_text("{not json", encoding="utf-8")  # a damaged file: the show starts from the top, no crash
    assert ShowState(file, rundown).load() is None
