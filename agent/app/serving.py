"""Running the agent: `livehost serve` (the server, its room and the agent in it) and `livehost join`
(the agent alone, in a room served elsewhere)."""

from __future__ import annotations

import argparse

from agent.app.build import UserError, answerer, build_host, build_voice
from agent.show.commands import show_for
from knowledge.live import live_facts_file


def cmd_serve(args: argparse.Namespace) -> int:
    import gc
    import os

    import uvicorn

    from agent.app.server import create_app
    from agent.room.routes import RoomOptions, ice_server
    from agent.room.tokens import TokenError, check_room
    from agent.show.report import ShowReport, report_file

    try:
        check_room(args.room)
        ice = [ice_server(url) for url in args.ice_server]
    except (TokenError, ValueError) as e:
        raise UserError(str(e)) from None
    if args.open_pcm and args.host not in ("127.0.0.1", "localhost", "::1"):
        raise UserError("--open-pcm leaves /ws/pcm without a token: only on a loopback --host (127.0.0.1)")
    _configure_logging(args.log_format)
    if args.live_facts is None:
        args.live_facts = live_facts_file(args.catalog)
    host = build_host(args)
    voice = None if args.no_voice else build_voice(args, host)
    token = os.environ.get("LIVEHOST_ADMIN_TOKEN")
    local = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    room = RoomOptions(
        args.room,
        args.agent_name,
        ice,
        os.environ.get("LIVEHOST_SECRET"),
        f"http://{local}:{args.port}",
        show=show_for(args.show, host, args.greet_every, args.show_state),
    )
    report = ShowReport(args.report or report_file(args.catalog))
    app = create_app(
        host, token, voice=voice, room=room, catalog_dirs=args.catalog_dir, open_pcm=args.open_pcm, report=report
    )
    base = f"http://{'localhost' if args.host in ('127.0.0.1', '0.0.0.0') else args.host}:{args.port}"
    print(f"livehost is answering from {host.catalog.path}; answers: {host.composer_note}")
    if room.show is not None and voice:
        segments = room.show.rundown.segments
        print(f"show ({args.show}): {len(segments)} segments, presented while nobody asks (host page: pause, skip)")
    print(f"host page (camera, product on stage, agent control): {base}{app.state.links['host']}")
    print(f"viewer page (share this one): {base}{app.state.links['viewer']}")
    print(f"show report (复盘): {base}{app.state.links['report']} (also written to {report.path})")
    print(f"ask page (text): {base}/")
    if voice:
        access = "open (--open-pcm)" if args.open_pcm else "?token=<admin token> or a host token"
        print(f"voice: ws://{base.removeprefix('http://')}/ws/pcm (16-bit mono PCM, 16 kHz unless ?sample_rate=N; "
              f"{access})")  # fmt: skip
    else:
        print("no voice (--no-voice): the agent does not join the room")
    print(f"admin token (catalog reload, minting tokens, /ws/pcm): {app.state.admin_token}", flush=True)
    host.catalog.current.index.warm()  # the first viewer's question does not pay for loading the embedder
    # The models' and catalog's ~240k objects, set aside for good: the collector's full pass (which frees
    # what conversations leave in cycles) then runs often and takes microseconds, not 40 ms every few dozen.
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _configure_logging(fmt: str) -> None:
    """json: one JSON object per line on stderr, every turn included (for a log collector); text: warnings."""
    import logging

    from agent.app.metrics import JsonLogFormatter

    handler = logging.StreamHandler()
    root = logging.getLogger("livehost")
    if fmt == "json":
        handler.setFormatter(JsonLogFormatter())
        root.setLevel(logging.INFO)
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.setLevel(logging.WARNING)
    root.addHandler(handler)
    root.propagate = False


def cmd_join(args: argparse.Namespace) -> int:
    """The agent as a participant of a room served elsewhere (`POST /api/rooms/R/tokens` role agent)."""
    import asyncio
    import os

    from agent.room.room import RoomError
    from agent.room.routes import keep_agent_in_room

    token = args.token or os.environ.get("LIVEHOST_AGENT_TOKEN")
    if not token:
        raise UserError("an agent token is needed: --token or LIVEHOST_AGENT_TOKEN (the room's host can mint one)")
    host = build_host(args)
    show = show_for(args.show, host, args.greet_every, args.show_state)
    voice = build_voice(args, host)
    engine = answerer(host)
    print(f"joining room '{args.room}' at {args.url} as {args.agent_name}", flush=True)
    stages_for = lambda rate: voice.stages(engine, rate)  # noqa: E731
    try:
        asyncio.run(keep_agent_in_room(args.url, args.room, token, stages_for, args.agent_name, show))
    except RoomError as e:
        raise UserError(f"the room refused the agent: {e}") from None
    return 0
