"""The show on the air: the rundown spoken on the agent's voice whenever the room is quiet.

The agent's `Floor` (agent/rtc/voice_track.py) plays the show's audio only while no conversation
is busy: a viewer who starts to speak or types a question silences it at once, mid-sentence, and
every waiting answer goes first. Once the room has been quiet for `QUIET_S`, the host says a short
bridge ("Back to the X2.") and goes on from the sample where it stopped. Lines are synthesized one
at a time, just before they are needed. The position in the rundown is kept here, not in the room
connection, so an agent that rejoins the room goes on where it was.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import numpy as np

from agent.engines import Synthesizer
from agent.session.playout import Heard, Playout, Segment
from agent.show.rundown import Rundown, bridge, segment_lines
from agent.show.rundown import Segment as ShowSegment
from agent.show.state import Position, ShowState
from agent.workers import in_thread
from knowledge.catalog import Catalog
from knowledge.live import LiveFact, LiveFacts

log = logging.getLogger("livehost.show")
QUIET_S = 1.0  # the room must have been quiet this long before the show goes on after questions
GREET_EVERY_S = 90.0  # new viewers are welcomed now and then, together, never on every join
MAX_GREETED = 3  # names in one welcome; later ones wait for the next
POLL_S = 0.1
LINE, BRIDGE = 1, 2  # what a queued clause is, for the playout's reports


class Show:
    def __init__(
        self,
        rundown: Rundown,
        catalog_of: Callable[[], Catalog],
        rate: int = 48000,
        live: LiveFacts | None = None,
        greet_every_s: float = GREET_EVERY_S,  # 0: viewers are never welcomed by name
        state: ShowState | None = None,
    ):
        self.greet_every_s = greet_every_s
        self.rundown = rundown
        self.catalog_of = catalog_of  # the current catalog (it may be reloaded while the show runs)
        self.live = live  # the operator's live facts: woven into the segments while they hold
        self.playout = Playout(rate, on_segment=self._on_segment, on_heard=self._on_heard)
        self.state = state  # where the show is, kept for a restart
        saved = state.load() if state is not None else None
        self.order, self.position = saved or (list(range(len(rundown.segments))), Position())
        self.watchers_of_rundown: list[Callable[[], None]] = []  # told when the order or the segment changes
        self.on_air = False  # the floor may play the show's audio now
        self.held = False  # the room interrupted a line: a bridge comes before the rest of it
        self.lines_said = 0
        self._line_done = False
        self._moved = False  # the host skipped or pushed a product: drop the line and start elsewhere
        self._on_line: Callable[[str, str], None] = lambda text, language: None
        self.watchers: list[Callable[[str], None]] = []  # told of each product the show presents (the report)
        self._arrived: list[str] = []  # viewers who joined since the last welcome
        self._greeted_at: float | None = None

    # ---- the floor's side ----------------------------------------------------------------
    def read(self, n: int, room_busy: bool) -> np.ndarray | None:
        """The show's next `n` samples, or None when it must not play (the room is busy, or nothing is ready)."""
        if room_busy:
            if self.playout.active and self.on_air:
                self.held, self.on_air = True, False
            return None
        if not self.on_air or not self.playout.active:
            return None
        return self.playout.read(n)

    # ---- running the rundown -------------------------------------------------------------
    async def run(
        self,
        speaker: Synthesizer,
        room_busy: Callable[[], bool],
        on_product: Callable[[str], None] = lambda product_id: None,
        on_line: Callable[[str, str], None] = lambda text, language: None,
    ) -> None:
        """Present the rundown, in a loop, until cancelled."""
        self._on_line = on_line
        while True:
            segments = self.segments
            if self.position.segment >= len(segments):
                self.position = Position(self.position.loop + 1)
            segment = segments[self.position.segment]
            self._changed()
            catalog = self.catalog_of()
            if not catalog.has_product(segment.product_id):  # gone in a catalog reload: skip it
                self._next_segment()
                await asyncio.sleep(POLL_S)  # a reload that removed every product must not spin the loop
                continue
            product = catalog.product(segment.product_id)
            lines = list(segment.lines) or segment_lines(catalog, product, segment.language, self.position.loop)
            sources: list[str | None] = [None] * len(lines)  # the live fact a line says, if any
            for fact in self.live.active(product.id) if self.live else []:  # after the hook, while they hold
                if fact.kind != "countdown":
                    lines.insert(1, fact.text.get(segment.language))
                    sources.insert(1, fact.id)
            on_product(product.id)
            for watcher in self.watchers:
                watcher(product.id)
            while self.position.line < len(lines) and not self._moved:
                await self._until_quiet(room_busy)
                if self._moved:
                    break
                if not self.playout.active:
                    for fact in self.live.opened() if self.live else []:  # a flash sale opens: said at once
                        lines.insert(self.position.line, opened(fact, segment.language))
                        sources.insert(self.position.line, fact.id)
                    welcome = self._welcome(segment.language)
                    if welcome:
                        lines.insert(self.position.line, welcome)
                        sources.insert(self.position.line, None)
                    said_by = sources[self.position.line]
                    if said_by is not None and self.live is not None and not self.live.is_active(said_by):
                        del lines[self.position.line], sources[self.position.line]  # ended: never said after
                        continue
                try:
                    if not self.playout.active:
                        await self._queue(speaker, lines[self.position.line], segment.language, LINE)
                    elif self.held and self.playout.front_id != BRIDGE:  # back from questions, mid-line
                        await self._queue(speaker, bridge(product, segment.language), segment.language, BRIDGE)
                except Exception:  # a line the voice cannot say costs that line, never the show
                    log.exception("the show could not say %r", lines[self.position.line])
                    if not self.playout.active:
                        self.position.line += 1
                        continue
                self.held, self.on_air = False, True
                if await self._line_finished():
                    self.position.line += 1
                    self.lines_said += 1
                    self._save()
            if self._moved:  # skip() or present() has set the position
                self._moved = False
                continue
            self._next_segment()

    # ---- the room ------------------------------------------------------------------------
    def greet(self, name: str) -> None:
        """A viewer joined: welcomed by name with the others who came meanwhile, at a line's end."""
        if self.greet_every_s > 0 and name not in self._arrived:
            self._arrived.append(name)

    def _welcome(self, language: str) -> str | None:
        recent = self._greeted_at is not None and time.monotonic() - self._greeted_at < self.greet_every_s
        if not self._arrived or recent:
            return None
        names, self._arrived = self._arrived[:MAX_GREETED], self._arrived[MAX_GREETED:]
        self._greeted_at = time.monotonic()
        if language == "zh":
            return f"欢迎{'、'.join(names)}来到直播间！"
        return f"Welcome, {names[0] if len(names) == 1 else ', '.join(names[:-1]) + ' and ' + names[-1]}!"

    # ---- the host's controls ---------------------------------------------------------------
    @property
    def segments(self) -> list[ShowSegment]:
        """The rundown in the order the show presents it (the host may have changed it)."""
        return [self.rundown.segments[i] for i in self.order]

    def describe(self) -> dict[str, object]:
        """The rundown as the host page lists it: each segment's product and language, and the one presented."""
        catalog = self.catalog_of()
        segments = [
            {
                "product": s.product_id,
                "language": s.language,
                "name": catalog.product(s.product_id).name.get(s.language) if catalog.has_product(s.product_id) else "",
            }
            for s in self.segments
        ]
        return {"segments": segments, "current": min(self.position.segment, max(0, len(segments) - 1))}

    def skip(self) -> None:
        """On to the next segment now: the line being said is dropped."""
        self._move(Position(self.position.loop, self.position.segment + 1, 0))

    def repeat(self) -> None:
        """The segment being presented, again from its first line."""
        self._move(Position(self.position.loop, self.position.segment, 0))

    def go_to(self, segment: int) -> None:
        """Present the segment at this place in the order now, from its first line."""
        if not 0 <= segment < len(self.order):
            raise ValueError(f"the show has segments 0 to {len(self.order) - 1}, not {segment}")
        self._move(Position(self.position.loop, segment, 0))

    def reorder(self, order: list[int]) -> None:
        """A new order, as the current places of the segments (e.g. [1, 0, 2] swaps the first two).

        The segment being presented goes on where it was, at its new place."""
        if sorted(order) != list(range(len(self.order))):
            raise ValueError(f"a new order lists each of the {len(self.order)} segments' places once, not {order}")
        current = self.order[self.position.segment] if self.position.segment < len(self.order) else None
        self.order = [self.order[i] for i in order]
        if current is not None:
            self.position.segment = self.order.index(current)
        self._changed()

    def present(self, product_id: str) -> bool:
        """Go to the product's next segment now (the host put it on stage); False: it has none."""
        segments = self.segments
        order = [(self.position.segment + k) % len(segments) for k in range(len(segments))]
        found = next((i for i in order if segments[i].product_id == product_id), None)
        if found is None:
            return False
        if found != self.position.segment:
            self._move(Position(self.position.loop, found, 0))
        return True

    def _move(self, position: Position) -> None:
        self.playout.clear()
        self.held, self.on_air, self._line_done = False, False, False
        self.position, self._moved = position, True

    def _next_segment(self) -> None:
        self.position = Position(self.position.loop, self.position.segment + 1, 0)

    def _changed(self) -> None:
        self._save()
        for watcher in self.watchers_of_rundown:
            watcher()

    def _save(self) -> None:
        if self.state is not None:
            self.state.save(self.order, self.position)

    async def _until_quiet(self, room_busy: Callable[[], bool]) -> None:
        """Until nobody is asking or being answered; after questions, until it has stayed so for `QUIET_S`."""
        wait = QUIET_S if self.held else 0.0
        quiet_since = time.monotonic()
        while room_busy() or time.monotonic() - quiet_since < wait:
            if room_busy():
                quiet_since, wait = time.monotonic(), QUIET_S
            await asyncio.sleep(POLL_S)

    async def _queue(self, speaker: Synthesizer, text: str, language: str, kind: int) -> None:
        pcm = await in_thread(speaker.synthesize, text, language)
        if kind == BRIDGE:
            self.playout.enqueue_first(kind, text, language, pcm)  # before the rest of the cut line
        else:
            self.playout.enqueue(kind, text, language, pcm)

    async def _line_finished(self) -> bool:
        """True when the line has played to its end; False when the room interrupted it first."""
        while not self._line_done:
            if self.held or self._moved:
                return False
            await asyncio.sleep(POLL_S / 2)
        self._line_done = False
        return True

    def _on_segment(self, segment: Segment) -> None:
        self._on_line(segment.text, segment.language)  # a line or a bridge begins: its caption

    def _on_heard(self, heard: Heard) -> None:
        if heard.complete and heard.answer_id == LINE:
            self._line_done = True


def opened(fact: LiveFact, language: str) -> str:
    """A flash sale's opening, counted down: "3, 2, 1, the link is up! ..." in the operator's words."""
    lead = "3、2、1，上链接！" if language == "zh" else "3, 2, 1, the link is up! "
    return lead + fact.text.get(language)
