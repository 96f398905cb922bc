"""`policy-rag serve`: open the service once (with progress in the terminal) and start the chat."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Sequence
from functools import partial

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860


def register(subparsers: argparse._SubParsersAction, parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """The command-line hook (ui/cli.py): adds `serve` and sets its handler."""
    add_serve_parser(subparsers, parents).set_defaults(handler=run_serve)


def add_serve_parser(
    subparsers: argparse._SubParsersAction, parents: Sequence[argparse.ArgumentParser] = ()
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "serve",
        parents=list(parents),
        help="start the chat in the browser (http://127.0.0.1:7860)",
        description="Start the chat. The first start builds the embedding model and the index, with progress shown.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}; 0.0.0.0 for the local network)")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--concurrency", type=int, metavar="N",
                        help="questions answered at once (default 2, measured best on 2 cores; more with more cores)")
    parser.add_argument("--max-queue", type=int, metavar="N",
                        help="questions that may wait; beyond that people are told the system is busy (default 300)")
    parser.add_argument("--share", action="store_true",
                        help="also open a temporary public link through Gradio's share servers (needs internet)")
    parser.add_argument("--no-feedback", action="store_true",
                        help="no thumbs up/down, nothing written to feedback.jsonl (env POLICYQA_FEEDBACK=off)")
    return parser


def run_serve(args: argparse.Namespace, settings) -> int:
    # Before the model and index load (most of a minute on first start), not after it.
    problem = port_problem(args.host, args.port)
    if problem:
        print(f"error: cannot listen on {args.host}:{args.port} ({problem}); choose another with --port",
              file=sys.stderr)
        return 1
    # Gradio reads these when it is imported: no usage statistics or version checks leave the machine.
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    # Gradio's monitoring summary (monitoring is off here) would rebuild a pandas table of up to
    # 10,000 past events after every answer: 10-40 ms of CPU each (docs/performance.md).
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000000000")
    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1000")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from tqdm import tqdm

    from rag.feedback import FeedbackLog
    from rag.service import PolicyQA

    print(f"Opening the corpus, model and index (data in {settings.data_dir}) ...", file=sys.stderr, flush=True)
    qa = PolicyQA.open(settings, progress=partial(tqdm, file=sys.stderr, dynamic_ncols=True))

    from ui.app import build_app, launch_options, queue_options

    keep_feedback = settings.feedback and not args.no_feedback
    demo = build_app(qa, FeedbackLog(settings.feedback_path) if keep_feedback else None)
    demo.queue(**queue_options(args.concurrency, args.max_queue))
    if args.share:
        print("--share asks Gradio's servers on the internet for a public link.", file=sys.stderr)
    try:
        demo.launch(server_name=args.host, server_port=args.port, share=args.share, prevent_thread_lock=True,
                    **launch_options(settings.max_upload_bytes))
    except OSError as error:
        print(f"error: cannot listen on {args.host}:{args.port} ({error}); choose another with --port",
              file=sys.stderr)
        return 1
    # Gradio's own start-up lines are off (quiet): they name launch() arguments, not this command's options.
    hint = "" if args.share else "; --share adds a temporary public link"
    print(f"The chat is running on http://{args.host}:{demo.server_port} (Ctrl+C stops it{hint})", file=sys.stderr)
    demo.block_thread()
    return 0


def port_problem(host: str, port: int) -> str | None:
    """Why the chat could not listen on ``host:port`` (already in use, no such address), found by
    binding it for a moment; None if it can."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the web server does
            probe.bind(address)
    except (OSError, OverflowError) as error:
        return getattr(error, "strerror", None) or str(error)
    return None


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0-65535)")
    return port
