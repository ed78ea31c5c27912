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
    """`bench`, `bench-catalog`, `bench-room` and `bench-memory`."""
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

    show = sub.add_parser(
        "bench-show", help="the show from a viewer's seat: speaking share, silences, resumes, latency with and without"
    )
    show.add_argument("--catalog", type=Path, help="catalog file (default: the built-in sample)")
    show.add_argument("--minutes", type=float, default=4.0, help="minutes per run (default 4)")
    show.add_argument("--questions", type=int, default=6, help="typed questions at random times (default 6)")
    show.add_argument("--seed", type=int, default=1)
    show.add_argument("--no-baseline", action="store_true", help="skip the run without the show (latency baseline)")
    show.add_argument("--out", type=Path, default=Path("reports/bench-show"))
    show.set_defaults(run=cmd_bench_show)

    soak = sub.add_parser(
        "bench-soak", help="the show over hours on a compressed clock: repeats, live facts, a restart, a reload, memory"
    )
    soak.add_argument("--catalog", type=Path, help="catalog file (default: the built-in sample)")
    soak.add_argument("--hours", type=float, default=8.0, help="hours of show (default 8)")
    soak.add_argument("--seed", type=int, default=1)
    soak.add_argument("--out", type=Path, default=Path("reports/bench-soak"))
    soak.set_defaults(run=cmd_bench_soak)

    memory = sub.add_parser(
        "bench-memory", help="server RSS over cycles of viewers joining, asking (chat and /ws/pcm) and leaving"
    )
    memory.add_argument("--cycles", type=int, default=5)
    memory.add_argument("--viewers", type=int, default=6, help="chat viewers per cycle, one typed question each")
    memory.add_argument("--spoken", type=int, default=2, help="spoken questions over /ws/pcm per cycle")
    memory.add_argument("--idle-s", type=float, default=15.0, help="quiet time after everyone left, per cycle")
    memory.add_argument("--max-minutes", type=float, default=30.0, help="no new cycle starts after this")
    memory.add_argument("--serve-args", default="", help='extra arguments for the server, e.g. "--composer catalog"')
    memory.add_argument("--compare", type=Path, metavar="REPORT", help="an earlier run's report.json, drawn behind")
    memory.add_argument("--out", type=Path, default=Path("reports/bench-memory"))
    memory.set_defaults(run=cmd_bench_memory)


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


def cmd_bench_soak(args: argparse.Namespace) -> int:
    from agent.app import build
    from evals import show_soak
    from knowledge.loader import load_catalog

    if not 1 <= args.hours <= 72:
        raise build.UserError("--hours between 1 and 72")
    catalog = load_catalog(args.catalog or build.SAMPLE_CATALOG)
    if len(catalog.products) < 2:
        raise build.UserError("the soak reloads the catalog without its last product: it needs two products or more")
    r = show_soak.soak(catalog, args.hours, args.seed, args.out)
    print(
        f"{r['hours']} h of show in {r['real_s']} s: {r['lines_per_hour']} lines/h, "
        f"said again within an hour: {r['said_again_within_an_hour']}, offer said {r['offer_said']} "
        f"(outside its window: {r['offer_said_outside_its_window']}), flash sale opened: {r['flash_sale_opened']}, "
        f"after the restart the same product: {r['restart']['resumed_same_product']}, "
        f"the removed product after the reload: {r['lines_about_removed_product_after_reload']}, "
        f"memory growth after the first hour: {r['memory_growth_mb_after_first_hour']} MB; "
        f"wrote {args.out / 'report.json'}"
    )
    return 0


def cmd_bench_show(args: argparse.Namespace) -> int:
    from agent.app import build
    from evals import show_bench
    from evals.voice import pick_questions
    from knowledge.loader import load_catalog

    if args.minutes < 0.5 or args.questions < 1 or args.questions > args.minutes * 4:
        raise build.UserError("--minutes at least 0.5, --questions at least 1 and at most 4 a minute")
    catalog = load_catalog(args.catalog or build.SAMPLE_CATALOG)
    questions = [q.question for q in pick_questions(catalog, args.questions)]
    report = show_bench.run(catalog, questions, args.minutes, args.seed, args.out, baseline=not args.no_baseline)
    for name, r in report["runs"].items():
        print(
            f"{name}: speaking {r['speaking_share']}, longest silence {r['longest_silence_s']} s, "
            f"resume accuracy {r['resume_accuracy']} ({r['resumes_checked']}), "
            f"repeats/h {r['repeated_sentences_per_hour']}, numbers not in the catalog {r['numbers_not_in_catalog']}, "
            f"answer begins p50/p90 {r['answer_begins_ms']['p50']}/{r['answer_begins_ms']['p90']} ms "
            f"({r['answered']}/{r['questions']})"
        )
    print(
        f"latency with the show / without: {report['latency_with_show_vs_without']}; wrote {args.out / 'report.json'}"
    )
    return 0


def cmd_bench_memory(args: argparse.Namespace) -> int:
    """Starts `livehost serve --open-pcm` on loopback and samples its RSS while viewers come and go."""
    import shlex

    from agent.app import build
    from evals import memory
    from evals.voice import pick_questions
    from knowledge.loader import load_catalog

    if min(args.cycles, args.viewers + args.spoken) < 1 or args.viewers < 0 or args.spoken < 0 or args.idle_s < 0:
        raise build.UserError("--cycles and --viewers + --spoken must be at least 1, --idle-s at least 0")
    serve_args = shlex.split(args.serve_args)
    catalog = serve_args[serve_args.index("--catalog") + 1] if "--catalog" in serve_args[:-1] else build.SAMPLE_CATALOG
    asked = pick_questions(load_catalog(Path(catalog)), 2 * (args.viewers + args.spoken))
    plan = memory.Plan(args.cycles, args.viewers, args.spoken, args.idle_s, max_minutes=args.max_minutes)
    earlier = None
    if args.compare:
        try:
            earlier = (json.loads(args.compare.read_text(encoding="utf-8")), f"run of {args.compare}")
            if not isinstance(earlier[0], dict) or "samples" not in earlier[0]:
                raise ValueError("no RSS samples in it")
        except (OSError, ValueError) as e:
            raise build.UserError(f"--compare {args.compare} is not a readable report.json ({e})") from None
    report = memory.run(plan, [(q.question, q.lang) for q in asked], serve_args, args.out, earlier=earlier)
    print(
        f"RSS baseline {report['baseline_mb']} MB, peak {report['peak_mb']} MB; after everyone left: "
        f"{', '.join(str(mb) for mb in report['after_leave_mb'])} MB; settled: {report['settled']}"
    )
    print(f"wrote {args.out / 'report.json'} and {args.out / 'memory.png'}")
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
