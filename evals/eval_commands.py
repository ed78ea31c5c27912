"""`livehost eval run` and `livehost eval compare`: the dialogue harness of evals/, from the command line.

Exit status, for CI gates: 0 every assertion held; 1 an assertion failed; 2 a usage or scenario
error; 3 the agent could not be started or reached.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import shlex
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.app.cli import Commands

USAGE, FAILED, UNREACHABLE = 2, 1, 3


def register(commands: Commands) -> None:
    """`eval run`, `eval crosscheck` and `eval compare` (the `livehost.commands` entry point)."""
    add_parsers(commands.suites)


def add_parsers(ev: Any) -> None:
    run = ev.add_parser("run", help="play scenario suites at the agent and measure it from the outside")
    shipped = "faq-en, faq-zh, barge-in, noise, multi-viewer, asr-real, smoke"
    run.add_argument("suites", nargs="+", metavar="SUITE_OR_FILE", help=f"shipped suite ({shipped}) or a .yaml file")
    run.add_argument("--transport", choices=("webrtc", "websocket"), default="websocket")
    run.add_argument("--url", help="a running agent: ws://HOST:PORT/ws/pcm?token=T, or for webrtc a viewer link "
                     "(http://HOST:PORT/watch?room=live&token=...); default: start one here")  # fmt: skip
    run.add_argument("--catalog", type=Path, help="catalog the started agent answers from, and the judge checks")
    run.add_argument("--repeat", type=int, default=1, help="play each suite N times (figures pool the repeats)")
    run.add_argument("--out", type=Path, default=Path("reports/eval"), help="folder for the report and plots")
    run.add_argument("--limit", type=int, help="only the first N turns of each suite")
    run.add_argument(
        "--serve-args", default="", help='extra arguments for the started agent, e.g. "--composer catalog"'
    )
    run.add_argument("--save-audio", action="store_true", help="also save each session as a stereo WAV in OUT/audio")
    run.add_argument("--no-judge", action="store_true", help="do not transcribe the answers (no accuracy figures)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(run=cmd_run)
    check = ev.add_parser("crosscheck", help="measure one conversation with voicebench and with this harness")
    check.add_argument("--url", help="a running agent's ws://HOST:PORT/ws/pcm?token=T (default: start one here)")
    check.add_argument("--mock", action="store_true", help="measure voicebench's own mock agent instead")
    check.add_argument("--questions", type=int, default=10)
    check.add_argument("--barge-ins", type=int, default=3)
    check.add_argument("--out", type=Path, default=Path("reports/crosscheck"))
    check.add_argument("--serve-args", default="", help="extra arguments for the started agent")
    check.set_defaults(run=cmd_crosscheck, transport="websocket", catalog=None)
    compare = ev.add_parser("compare", help="differences between two reports, and which way each went")
    compare.add_argument("a", type=Path, help="the baseline report.json")
    compare.add_argument("b", type=Path, help="the report.json to compare with it")
    compare.set_defaults(run=cmd_compare)


def cmd_run(args: argparse.Namespace) -> int:
    from evals.scenario import ScenarioError, load

    if args.repeat < 1 or (args.limit is not None and args.limit < 1):
        print("error: --repeat and --limit must be at least 1", file=sys.stderr)
        return USAGE
    try:
        scenarios = [load(s).limited(args.limit) for s in args.suites]
    except ScenarioError as e:
        print(f"error: {e}", file=sys.stderr)
        return USAGE
    needs = {s.transport for s in scenarios} - {None, args.transport}
    if needs:
        print(f"error: {', '.join(s.name for s in scenarios if s.transport in needs)} needs --transport "
              f"{', '.join(sorted(str(n) for n in needs))}", file=sys.stderr)  # fmt: skip
        return USAGE
    from evals.transports import TransportError

    try:
        with _agent(args) as (url, token_for):
            report, timelines = asyncio.run(_evaluate(args, scenarios, url, token_for))
    except (TransportError, RuntimeError) as e:
        print(f"\nerror: {e}", file=sys.stderr)
        return UNREACHABLE
    from evals.harness import write

    paths = write(report, timelines, args.out)
    for run in report["runs"]:
        s, v = run["summary"], run["summary"]["voice_to_voice_ms"]
        print(f"{run['suite']}/{run['condition']}: {s['turns_passed']}/{s['turns']} turns passed; "
              f"voice-to-voice p50/p90/p95 {v['p50']}/{v['p90']}/{v['p95']} ms")  # fmt: skip
        for a in run["assertions"]:
            print(f"  {'PASS' if a['passed'] else 'FAIL'}  {a['expr']} (actual {a['actual']})")
    print(f"wrote {', '.join(str(p) for p in paths[:2])} and {len(paths) - 2} plot(s)")
    return 0 if report["passed"] else FAILED


async def _evaluate(args: argparse.Namespace, scenarios: list[Any], url: str, token_for: Any) -> tuple[dict, list]:
    from evals.faq import today
    from evals.harness import evaluate, machine
    from evals.judge import Judge
    from evals.session import RealClock
    from evals.stimulus import Stimuli
    from evals.transports import WebRtcTransport, WebSocketTransport
    from knowledge.loader import SAMPLE_CATALOG, load_catalog

    catalog_path = args.catalog or SAMPLE_CATALOG
    judge = None if args.no_judge else Judge(load_catalog(catalog_path))
    if args.transport == "websocket":

        def transport() -> Any:
            return WebSocketTransport(url)
    else:

        def transport() -> Any:
            return WebRtcTransport(url, token_for)

    meta = {"date": today(), "machine": machine(), "transport": args.transport, "url": url.split("token=")[0],
            "catalog": str(catalog_path), "suites": args.suites, "started_agent": args.url is None,
            "command": "livehost eval run " + " ".join(shlex.quote(a) for a in sys.argv[3:])}  # fmt: skip
    stimuli = Stimuli()
    audio = args.out / "audio" if args.save_audio else None
    return await evaluate(
        scenarios, transport, RealClock, stimuli.render, judge, args.repeat, not args.quiet, meta, audio
    )


@contextlib.contextmanager
def _agent(args: argparse.Namespace) -> Iterator[tuple[str, Any]]:
    """The agent to measure: the one at --url, or a `livehost serve` started here for the run."""
    if args.url:
        yield args.url, None
        return
    from evals.agent_process import serving
    from evals.room import wait_for_agent

    admin = secrets.token_urlsafe(16)
    extra = shlex.split(args.serve_args) + (["--catalog", str(args.catalog)] if args.catalog else [])
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"starting the agent (log: {args.out / 'agent.log'}) ...", file=sys.stderr)
    with serving(*extra, env={"LIVEHOST_ADMIN_TOKEN": admin}, log=args.out / "agent.log") as (base, _):
        if args.transport == "websocket":
            yield base.replace("http://", "ws://") + f"/ws/pcm?token={admin}", None  # /ws/pcm needs a token
            return
        wait_for_agent(base, "live")

        def token_for(viewer: str) -> str:
            request = urllib.request.Request(
                f"{base}/api/rooms/live/tokens",
                data=json.dumps({"role": "viewer", "name": viewer}).encode(),
                headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
            )
            return str(json.loads(urllib.request.urlopen(request, timeout=10).read())["token"])

        yield f"{base}/watch?room=live", token_for


def cmd_compare(args: argparse.Namespace) -> int:
    from evals.compare import compare, load_report, render

    try:
        a, b = load_report(args.a), load_report(args.b)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return USAGE
    print(render(compare(a, b), str(args.a), str(args.b)))
    return 0


def cmd_crosscheck(args: argparse.Namespace) -> int:
    from evals import crosscheck
    from evals.stimulus import Stimuli

    if not 1 <= args.questions <= 60 or args.barge_ins < 0:
        print("error: --questions must be 1..60 and --barge-ins at least 0", file=sys.stderr)
        return USAGE
    say = Stimuli().speaker.synthesize
    theirs_path, ours_path = crosscheck.write_scenarios(args.out, say, args.questions, args.barge_ins)

    async def both(url: str) -> list[dict[str, Any]]:
        theirs = await crosscheck.run_voicebench(theirs_path, url)
        ours = await crosscheck.run_ours(ours_path, url)
        return crosscheck.compare(theirs, ours)

    async def against_mock() -> list[dict[str, Any]]:
        from voicebench.mock_server import start_server

        server = await start_server(port=0)
        try:
            return await both(f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}")
        finally:
            server.close()

    try:
        if args.mock:
            rows, target = asyncio.run(against_mock()), "voicebench's mock agent"
        else:
            with _agent(args) as (url, _):
                rows, target = asyncio.run(both(url)), f"livehost at {url.split('?')[0]}"
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return UNREACHABLE
    text = crosscheck.markdown(rows, target)
    (args.out / "crosscheck.md").write_text(text, encoding="utf-8")
    (args.out / "crosscheck.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    print(text)
    return 0 if all(r["agree"] for r in rows if r["stat"] == "p50") else FAILED
