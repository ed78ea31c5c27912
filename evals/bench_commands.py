"""The measuring commands of `livehost`: `bench ...`, `eval asr` and `eval faq`.

Registered with agent/app/cli.py through the `livehost.commands` entry point (pyproject.toml).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evals.long_run_commands import add_long_run_parsers

if TYPE_CHECKING:
    from agent.app.cli import Commands


def register(commands: Commands) -> None:
    add_eval_parsers(commands.suites, commands.host_arguments)
    add_bench_parsers(commands.sub, commands.host_arguments, commands.voice_arguments)


def add_eval_parsers(ev: Any, host_arguments: Callable[[Any], None]) -> None:
    """`eval asr` and `eval faq`."""
    asr = ev.add_parser("asr", help="word error rate and time on real speech (Debian Asterisk prompts)")
    asr.add_argument("--asr-model", help="packaged:base (default), packaged:tiny.en, ...")
    asr.add_argument("--device", default="cpu")
    asr.add_argument("--threads", type=int, default=2)
    asr.add_argument("--limit", type=int)
    asr.set_defaults(run=cmd_eval_asr)
    faq = ev.add_parser("faq", help="grounded-answer accuracy and latency over a question set")
    host_arguments(faq)
    faq.add_argument("--questions", type=Path, help="question set (default: the bundled bilingual set)")
    faq.add_argument(
        "--blind",
        choices=("dev", "final"),
        help="every blind catalog's dev or final set (evals/faq/blind/*), one report each plus a summary",
    )
    faq.add_argument("--out", type=Path, default=Path("reports/faq"), help="folder for report.json and report.md")
    faq.add_argument("--limit", type=int, help="only the first N questions")
    faq.add_argument("--quiet", action="store_true", help="no per-question progress")
    faq.set_defaults(run=cmd_eval_faq)


def add_bench_parsers(sub: Any, host_arguments: Callable[[Any], None], voice_arguments: Callable[[Any], None]) -> None:
    """`bench`, `bench-catalog`, `bench-room`; and the long runs (evals/long_run_commands.py)."""
    bench = sub.add_parser("bench", help="spoken-turn benchmark: voice-to-voice, stages, barge-in stop latency")
    host_arguments(bench)
    voice_arguments(bench)
    bench.add_argument("--turns", type=int, default=30, help="clean question turns (half zh, half en)")
    bench.add_argument("--barge-ins", type=int, default=30, help="answers talked over (every third: only a sound)")
    bench.add_argument("--paused", type=int, default=6, help="questions asked in two parts with a pause between")
    bench.add_argument("--out", type=Path, default=Path("reports/bench"), help="folder for report.json and report.md")
    bench.add_argument("--quiet", action="store_true", help="no progress line")
    bench.add_argument(
        "--run-cancelled-work",
        action="store_true",
        help="let recognition and synthesis finish for cancelled turns (to measure what stopping them saves)",
    )
    bench.set_defaults(run=cmd_bench)

    scale = sub.add_parser("bench-catalog", help="a generated large catalog: load time and planning time")
    scale.add_argument("--products", type=int, default=2000)
    scale.add_argument("--variants", type=int, default=10, help="variants per product")
    scale.add_argument("--questions", type=int, default=300)
    scale.add_argument("--out", type=Path, default=Path("reports/bench-catalog"))
    scale.set_defaults(run=cmd_bench_catalog)

    room_bench = sub.add_parser(
        "bench-room", help="voice-to-voice at the listener: a headless Chromium asks aloud in the live room"
    )
    host_arguments(room_bench)
    room_bench.add_argument("--turns", type=int, default=30, help="spoken questions (default 30)")
    room_bench.add_argument("--barge-ins", type=int, default=10, help="interruptions (default 10)")
    room_bench.add_argument("--out", type=Path, default=Path("reports/bench-room"))
    room_bench.set_defaults(run=cmd_bench_room)
    add_long_run_parsers(sub)


def cmd_bench_catalog(args: argparse.Namespace) -> int:
    from evals import catalog_scale

    csv_path, json_path = catalog_scale.generate(args.out / "catalog", args.products, args.variants)
    results = [catalog_scale.measure(path, args.questions) for path in (csv_path, json_path)]
    (args.out / "report.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    for r in results:
        p = r["plan_ms"]
        print(
            f"{r['file']}: {r['products']} products, {r['variants']} variants, {r['facts']} facts; "
            f"parse {r['parse_s']} s, cold load {r['cold_load_s']} s, cached load {r['cached_load_s']} s; "
            f"planning p50/p90/p95 {p['p50']}/{p['p90']}/{p['p95']} ms over {p['n']} questions "
            f"({r['answered']} answered)"
        )
    print(f"wrote {args.out / 'report.json'}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    import asyncio

    from agent.app import build
    from agent.audio import RATE, AudioError, read_wav
    from agent.tts.speaker import Speaker
    from evals import voice as bench

    host = build.build_host(args)
    voice = build.build_voice(args, host)
    viewer_voice = Speaker(voice.speaker.voices, RATE)
    questions = bench.pick_questions(host.catalog.current.catalog, args.turns)
    noise_path = Path(".cache/testdata/alsa/usr/share/sounds/alsa/Noise.wav")
    try:
        noise = read_wav(noise_path) if noise_path.exists() else None
    except AudioError:
        noise = None
    stages = voice.stages(host.engine, RATE)
    stages.stop_cancelled_work = not args.run_cancelled_work
    report = asyncio.run(
        bench.run_bench(stages, viewer_voice.synthesize, questions, args.barge_ins, noise, not args.quiet, args.paused)
    )
    report["meta"] = bench.meta(
        args.device,
        {
            "composer": host.composer_note,
            "asr_model": args.asr_model or "packaged:base",
            "turn_model": args.turn_model,
            "stop_cancelled_work": stages.stop_cancelled_work,
        },
    )
    json_path, md_path = bench.write(report, args.out)
    v2v, stop = report["voice_to_voice_ms"], report["barge_in"]["stop_ms"]
    print(
        f"voice-to-voice p50/p90/p95 {v2v['p50']}/{v2v['p90']}/{v2v['p95']} ms over {v2v['n']} turns; "
        f"barge-in stop p50/p95 {stop['p50']}/{stop['p95']} ms, yield rate {report['barge_in']['yield_rate']}, "
        f"false yields {report['barge_in']['false_yields']}/{report['barge_in']['distractions']}; "
        f"answer accuracy {report['answer_accuracy']}"
    )
    print(f"wrote {json_path} and {md_path}")
    return 0


def cmd_bench_room(args: argparse.Namespace) -> int:
    """Starts `livehost serve` on a free port, then measures it from a browser in its room."""

    import os
    import secrets
    import socket
    import subprocess

    import httpx

    from agent.app import build
    from evals import room as bench
    from evals.voice import pick_questions
    from knowledge.loader import load_catalog

    questions = pick_questions(load_catalog(args.catalog), args.turns)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    admin, url = secrets.token_urlsafe(12), f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "agent", "serve", "--port", str(port), "--catalog", str(args.catalog)]
    command += ["--composer", args.composer, "--device", args.device] + (["--model", args.model] if args.model else [])
    server = subprocess.Popen(command, env={**os.environ, "LIVEHOST_ADMIN_TOKEN": admin}, stdout=subprocess.DEVNULL)
    try:
        bench.wait_for_agent(url, "live")
        minted = httpx.post(
            f"{url}/api/rooms/live/tokens", json={"role": "viewer"}, headers={"Authorization": f"Bearer {admin}"}
        ).json()
        say = build.speaker(rate=bench.RATE)
        report = bench.run(url + minted["url"], questions, say.synthesize, args.barge_ins)
    finally:
        server.terminate()
        server.wait(timeout=30)
    report["meta"] = bench.report_meta({"composer": args.composer, "catalog": str(args.catalog)})
    json_path, md_path = bench.write(report, args.out)
    v2v, stop = report["voice_to_voice_ms"], report["barge_in"]["stop_ms"]
    print(
        f"voice-to-voice at the page p50/p90/p95 {v2v['p50']}/{v2v['p90']}/{v2v['p95']} ms over {v2v['n']} turns; "
        f"barge-in stop p50/p95 {stop['p50']}/{stop['p95']} ms; answer accuracy {report['answer_accuracy']}"
    )
    print(f"wrote {json_path} and {md_path}")
    return 0


def cmd_eval_asr(args: argparse.Namespace) -> int:
    from agent.app import build
    from evals import asr

    try:
        items = asr.asterisk_sentences()
    except FileNotFoundError as e:
        raise build.UserError(str(e)) from None
    result = asr.run(
        build.build_recognizer(args.asr_model, args.device, args.threads), items[: args.limit] if args.limit else items
    )
    print(json.dumps({"model": args.asr_model or "packaged:base", "device": args.device, **result}, indent=2))
    return 0


def cmd_eval_faq(args: argparse.Namespace) -> int:
    from agent.app import build
    from evals import faq

    try:
        if args.blind:
            sets = faq.blind_sets(args.blind)
        else:
            questions = args.questions or faq.DEFAULT_QUESTIONS
            catalog = args.catalog
            if args.questions and catalog == build.SAMPLE_CATALOG and faq.names_catalog_file(questions):
                catalog = faq.catalog_of(questions)  # a set beside its own catalog file
            sets = [("faq", catalog, questions)]
    except faq.QuestionSetError as e:
        raise build.UserError(str(e)) from None
    if not sets:
        raise build.UserError(f"no question sets found under {faq.BLIND}")
    summary = []
    for name, catalog_file, path in sets:
        args.catalog = catalog_file
        out = args.out / name if len(sets) > 1 else args.out
        report = _faq_report(args, path, out)
        summary.append((name, report))
    if len(sets) > 1:
        rows = [faq.summary_row(name, r) for name, r in summary]
        (args.out / "summary.md").write_text(faq.summary_markdown(rows), encoding="utf-8")
        print(faq.summary_markdown(rows))
    return 0


def _faq_report(args: argparse.Namespace, path: Path, out: Path) -> dict[str, Any]:
    from agent.app import build
    from evals import faq

    host = build.build_host(args)
    catalog = host.catalog.current.catalog
    try:
        questions = faq.load_questions(path, catalog)
    except faq.QuestionSetError as e:
        raise build.UserError(str(e)) from None
    questions = questions[: args.limit] if args.limit else questions
    results = faq.run(host.engine, questions, progress=not args.quiet)
    meta = {
        "catalog": str(args.catalog),
        "questions_file": str(path),
        "composer": f"{args.composer}: {host.composer_note}",
        "model": host.model_name,
        "device": args.device,
        "machine": faq.machine(),
        "date": faq.today(),
    }
    report = faq.summarize(results, meta)
    json_path, md_path = faq.write(report, out)
    lat, ans = report["latency_ms"], report["latency_ms_answered"]
    print(
        f"{path}: accuracy {report['accuracy']:.1%}, hallucinations {report['hallucinations']}, "
        f"English in Chinese answers {report['english_in_chinese']}, "
        f"unknown {_pct(report['unknown_correct_rate'])}, declined {_pct(report['declined_correct_rate'])}, "
        f"first clause p50/p95 {lat['first_clause']['p50']}/{lat['first_clause']['p95']} ms "
        f"(answered only {ans['first_clause']['p50']}/{ans['first_clause']['p95']} ms), "
        f"total p50/p95 {lat['total']['p50']}/{lat['total']['p95']} ms"
    )
    print(f"wrote {json_path} and {md_path}")
    return report


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1%}"
