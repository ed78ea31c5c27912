"""The long-run measuring commands of `livehost`: `bench-show`, `bench-soak`, `bench-memory`, `bench-idle`.

Added to the `bench` commands by evals/bench_commands.py.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_long_run_parsers(sub: Any) -> None:
    show = sub.add_parser(
        "bench-show", help="the show from a viewer's seat: speaking share, silences, resumes, latency with and without"
    )
    show.add_argument("--catalog", type=Path, help="catalog file (default: the built-in sample)")
    show.add_argument("--minutes", type=float, default=4.0, help="minutes per run (default 4)")
    show.add_argument("--questions", type=int, default=6, help="typed questions at random times (default 6)")
    show.add_argument("--seed", type=int, default=1)
    show.add_argument("--no-baseline", action="store_true", help="skip the run without the show (latency baseline)")
    show.add_argument("--window-min", type=float, default=5.0, help="minutes per window of the over-time report")
    show.add_argument(
        "--visitors", action="store_true", help="every other question from a viewer who joins, asks and leaves"
    )
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

    idle = sub.add_parser("bench-idle", help="what the server costs with nobody there: CPU share of a core, memory")
    idle.add_argument("--minutes", type=float, default=5.0, help="idle minutes measured (default 5)")
    idle.add_argument("--settle-s", type=float, default=30.0, help="wait after the agent joined, before measuring")
    idle.add_argument("--serve-args", default="", help='extra arguments for the server, e.g. "--show auto"')
    idle.add_argument("--out", type=Path, default=Path("reports/bench-idle"))
    idle.set_defaults(run=cmd_bench_idle)


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
    if args.window_min <= 0:
        raise build.UserError("--window-min must be more than 0")
    report = show_bench.run(
        catalog,
        questions,
        args.minutes,
        args.seed,
        args.out,
        baseline=not args.no_baseline,
        window_min=args.window_min,
        visitors=args.visitors,
    )
    for name, r in report["runs"].items():
        print(
            f"{name}: speaking {r['speaking_share']}, longest silence {r['longest_silence_s']} s, "
            f"resume accuracy {r['resume_accuracy']} ({r['resumes_checked']}), "
            f"repeats/h {r['repeated_sentences_per_hour']}, numbers not in the catalog {r['numbers_not_in_catalog']}, "
            f"answer begins p50/p90 {r['answer_begins_ms']['p50']}/{r['answer_begins_ms']['p90']} ms "
            f"({r['answered']}/{r['questions']}); server RSS {r['rss_mb']}, flatness {r['flatness']}, "
            f"server errors {len(r['server_errors'])}; plot {args.out / r['plot']}"
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


def cmd_bench_idle(args: argparse.Namespace) -> int:
    """Starts `livehost serve` on loopback and measures it while nobody is there."""
    import shlex

    from agent.app import build
    from evals import idle

    if not 0.1 <= args.minutes <= 180 or args.settle_s < 0:
        raise build.UserError("--minutes between 0.1 and 180, --settle-s at least 0")
    serve_args = ["--host", "127.0.0.1", *shlex.split(args.serve_args)]
    report = idle.run(serve_args, args.minutes, args.settle_s, args.out)
    busiest = ", ".join(f"{t['thread']} {t['percent']}%" for t in report["by_thread"][:5])
    print(
        f"idle for {report['seconds']} s: {report['cpu_percent_of_a_core']}% of one core ({busiest}); "
        f"RSS {report['rss_mb']} MB; wrote {args.out / 'report.json'}"
    )
    return 0
