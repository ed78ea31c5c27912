"""Scenario files for `livehost eval run`: what the viewers say, when, and what the agent should do.

A scenario is YAML. Each turn has one source of sound (`say` a text in `lang`, play an `audio`
WAV file, or a `sound`: cough, clap, noise, babble), a start rule (`after` an anchor plus
`delay_ms`), an expectation and, optionally, the facts the answer must hold. Channel conditions
(noise, packet loss, telephone band, clipping) apply to every turn of a run; a scenario lists the
conditions it is run under, and each becomes one run in the report. Anything wrong is one
`ScenarioError` naming the file, the turn and the key.

    name: faq-en
    conditions: [clean, {noise_snr_db: 10}]
    assert: ["p90_voice_to_voice_ms <= 2500", "answer_accuracy >= 0.8"]
    turns:
      - id: battery
        say: How many days does the SmartBand X2 go between charges?
        expect: answer
        facts: ["14"]
      - id: cut-in
        say: And how much is it?
        start: {after: answer_start, delay_ms: 900}   # 900 ms into the agent's answer
        expect: stop
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evals.channel import CLEAN, ChannelError, Condition, parse_condition
from evals.stats import YIELD_WITHIN_MS
from evals.turn_sources import SourceError, expand_source

SUITES = Path(__file__).parent / "suites"
ANCHORS = ("answer_end", "answer_start", "previous_end", "previous_start", "session_start")
EXPECTS = ("answer", "unknown", "declined", "stop", "ignore", "transcribe")
GRADED = ("answer", "unknown", "declined")  # replies whose words are checked
ANSWER_MS = 20000.0  # time allowed to hear an answer out, when a turn waits for its end
RESPONDS = (*GRADED, "transcribe")  # the agent must say something back
SOUNDS = ("cough", "clap", "noise", "babble")
CHANNELS = ("voice", "chat")
ASSERTION = re.compile(r"^\s*([a-z0-9_]+)\s*(<=|>=|<|>|==)\s*(-?[0-9.]+)\s*$")


class ScenarioError(ValueError):
    """A scenario that cannot be run; the message names the file, the turn and the key."""


@dataclass(frozen=True)
class Start:
    """When a turn starts: `delay_ms` after the anchor (or after `timeout_ms` waiting for it).

    Without a `timeout_ms`, a turn waits as long as the turn before it may wait for its answer (its
    `response_timeout_ms`) plus `ANSWER_MS` to hear that answer out, so that a slow agent's
    answers are not talked over by the next turn of the script."""

    after: str = "answer_end"
    delay_ms: float = 800.0
    timeout_ms: float | None = None

    def waits_ms(self, previous: Turn | None) -> float:
        if self.timeout_ms is not None:
            return self.timeout_ms
        return ANSWER_MS + (previous.response_timeout_ms if previous is not None and previous.responds else 0.0)


@dataclass(frozen=True)
class Turn:
    id: str
    viewer: str = "viewer"
    channel: str = "voice"  # voice: spoken into the microphone; chat: typed into the room's chat
    say: str | None = None
    lang: str = "en"
    audio: Path | None = None
    sound: str | None = None
    sound_ms: float = 400.0
    level_db: float = -20.0  # speech level of synthesized text and sounds, dBFS
    start: Start = field(default_factory=Start)
    expect: str = "answer"
    facts: tuple[str, ...] = ()
    forbid: tuple[str, ...] = ()  # saying any of these is a hallucination
    text: str | None = None  # reference transcript for WER (the `say` text unless given)
    response_timeout_ms: float = 8000.0
    max_stop_ms: float = YIELD_WITHIN_MS  # latency.md: a yield is a stop within 2 s

    @property
    def graded(self) -> bool:
        """Its reply is checked: a question, or an interruption that asks one (a stop with facts)."""
        return self.expect in GRADED or (self.expect == "stop" and bool(self.facts))

    @property
    def responds(self) -> bool:
        return self.expect == "transcribe" or self.graded

    @property
    def reference(self) -> str | None:
        return self.text if self.text is not None else self.say


@dataclass(frozen=True)
class Assertion:
    expr: str
    metric: str
    op: str
    limit: float

    def holds(self, actual: float | None) -> bool:
        if actual is None:
            return False
        return {
            "<=": actual <= self.limit,
            ">=": actual >= self.limit,
            "<": actual < self.limit,
            ">": actual > self.limit,
            "==": actual == self.limit,
        }[self.op]


@dataclass(frozen=True)
class Scenario:
    name: str
    turns: tuple[Turn, ...]
    description: str = ""
    conditions: tuple[Condition, ...] = (CLEAN,)
    assertions: tuple[Assertion, ...] = ()
    transport: str | None = None  # the transport it needs (multi-viewer, chat: webrtc), if any
    source: Path | None = None

    @property
    def viewers(self) -> list[str]:
        return list(dict.fromkeys(t.viewer for t in self.turns))

    def limited(self, n: int | None) -> Scenario:
        """The first `n` turns (a quick look at a long suite)."""
        if n is None or n >= len(self.turns):
            return self
        return Scenario(
            self.name, self.turns[:n], self.description, self.conditions, self.assertions, self.transport, self.source
        )


def resolve(name_or_file: str) -> Path:
    """A shipped suite's name (`faq-en`) or a path to a scenario file."""
    path = Path(name_or_file)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.exists():
            raise ScenarioError(f"{path}: no such scenario file")
        return path
    shipped = SUITES / f"{name_or_file}.yaml"
    if not shipped.exists():
        names = ", ".join(sorted(p.stem for p in SUITES.glob("*.yaml")))
        raise ScenarioError(f"no suite called '{name_or_file}' (shipped suites: {names}; or give a .yaml file)")
    return shipped


def load(name_or_file: str) -> Scenario:
    path = resolve(name_or_file)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(f"{path}: cannot read: {e}") from None
    except yaml.YAMLError as e:
        raise ScenarioError(f"{path}: not valid YAML: {e}") from None
    return parse(data, path)


def parse(data: Any, path: Path) -> Scenario:
    root = _mapping(data, f"{path}")
    _known(root, f"{path}", {"name", "description", "conditions", "assert", "transport", "defaults", "turns", "source"})
    defaults = _mapping(root.get("defaults", {}), f"{path}: defaults")
    items = root.get("turns", [])
    if "source" in root:
        try:
            items = [*items, *expand_source(root["source"], f"{path}: source")]
        except SourceError as e:
            raise ScenarioError(str(e)) from None
    if not isinstance(items, list) or not items:
        raise ScenarioError(f"{path}: 'turns' must be a non-empty list")
    turns = tuple(_turn({**defaults, **_mapping(item, f"{path}: turns[{i}]")}, i, path) for i, item in enumerate(items))
    ids = [t.id for t in turns]
    if len(set(ids)) != len(ids):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        raise ScenarioError(f"{path}: turn ids must be unique; repeated: {', '.join(twice)}")
    try:
        conditions = tuple(
            parse_condition(c, f"{path}: conditions[{i}]") for i, c in enumerate(root.get("conditions", ["clean"]))
        )
    except ChannelError as e:
        raise ScenarioError(str(e)) from None
    transport = root.get("transport")
    if transport not in (None, "webrtc", "websocket"):
        raise ScenarioError(f"{path}: transport must be webrtc or websocket, not {transport!r}")
    return Scenario(
        name=str(root.get("name") or path.stem),
        turns=turns,
        description=str(root.get("description", "")),
        conditions=conditions,
        assertions=tuple(_assertion(a, f"{path}: assert[{i}]") for i, a in enumerate(root.get("assert", []))),
        transport=transport,
        source=path,
    )


def _turn(item: dict[str, Any], i: int, path: Path) -> Turn:
    where = f"{path}: turns[{i}]" + (f" ({item['id']})" if "id" in item else "")
    _known(
        item,
        where,
        {"id", "viewer", "channel", "say", "lang", "audio", "sound", "duration_ms", "level_db", "start", "expect",
         "facts", "forbid", "text", "response_timeout_ms", "max_stop_ms"},
    )  # fmt: skip
    sources = [k for k in ("say", "audio", "sound") if k in item]
    if len(sources) != 1:
        raise ScenarioError(f"{where}: give exactly one of say, audio or sound (found {sources or 'none'})")
    say = _text(item, "say", where)
    lang = str(item.get("lang") or ("zh" if say and re.search(r"[\u3400-\u9fff]", say) else "en"))
    if lang not in ("en", "zh"):
        raise ScenarioError(f"{where}: lang must be en or zh, not {lang!r}")
    audio = None
    if "audio" in item:
        audio = Path(str(item["audio"]))
        audio = audio if audio.is_absolute() else path.parent / audio
        if not audio.exists():
            raise ScenarioError(f"{where}: audio: no such file {audio}")
    sound = item.get("sound")
    if sound is not None and sound not in SOUNDS:
        raise ScenarioError(f"{where}: sound must be one of {', '.join(SOUNDS)}, not {sound!r}")
    channel = item.get("channel", "voice")
    if channel not in CHANNELS:
        raise ScenarioError(f"{where}: channel must be voice or chat, not {channel!r}")
    if channel == "chat" and say is None:
        raise ScenarioError(f"{where}: a chat turn needs 'say' (the text typed)")
    expect = item.get("expect", "answer")
    if expect not in EXPECTS:
        raise ScenarioError(f"{where}: expect must be one of {', '.join(EXPECTS)}, not {expect!r}")
    return Turn(
        id=str(item.get("id", f"t{i + 1}")),
        viewer=str(item.get("viewer", "viewer")),
        channel=channel,
        say=say,
        lang=lang,
        audio=audio,
        sound=sound,
        sound_ms=_number(item, "duration_ms", where, 400.0, 20, 30000),
        level_db=_number(item, "level_db", where, -20.0, -80, 0),
        start=_start(item.get("start", {}), f"{where}: start"),
        expect=expect,
        facts=_strings(item, "facts", where),
        forbid=_strings(item, "forbid", where),
        text=_text(item, "text", where),
        response_timeout_ms=_number(item, "response_timeout_ms", where, 8000.0, 100, 120000),
        max_stop_ms=_number(item, "max_stop_ms", where, YIELD_WITHIN_MS, 10, 30000),
    )


def _start(data: Any, where: str) -> Start:
    if isinstance(data, str):
        data = {"after": data}
    data = _mapping(data, where)
    _known(data, where, {"after", "delay_ms", "timeout_ms"})
    after = data.get("after", "answer_end")
    if after not in ANCHORS:
        raise ScenarioError(f"{where}: after must be one of {', '.join(ANCHORS)}, not {after!r}")
    return Start(
        after=after,
        delay_ms=_number(data, "delay_ms", where, 800.0, -5000, 120000),
        timeout_ms=_number(data, "timeout_ms", where, 0, 0, 600000) if "timeout_ms" in data else None,
    )


def _assertion(text: Any, where: str) -> Assertion:
    match = ASSERTION.match(str(text))
    if not isinstance(text, str) or match is None:
        raise ScenarioError(f"{where}: an assertion reads 'metric <= number' (or >=, <, >, ==), not {text!r}")
    return Assertion(text.strip(), match[1], match[2], float(match[3]))


def _mapping(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: expected a mapping, got {type(data).__name__}")
    return data


def _known(data: dict[str, Any], where: str, keys: set[str]) -> None:
    unknown = sorted(set(data) - keys)
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(keys))})")


def _text(data: dict[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(f"{where}: {key} must be a non-empty text")
    return value.strip()


def _strings(data: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise ScenarioError(f"{where}: {key} must be a list of texts")
    return tuple(str(v) for v in value)


def _number(data: dict[str, Any], key: str, where: str, default: float, low: float, high: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{where}: {key} must be a number, not {value!r}")
    if not low <= value <= high:
        raise ScenarioError(f"{where}: {key} must be between {low:g} and {high:g}, not {value:g}")
    return float(value)
