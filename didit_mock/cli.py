"""The `didit-mock` command: `serve` (and more subcommands as features arrive)."""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import logging.config
import signal
import sys
import threading
from collections.abc import Callable, Sequence

from . import __version__
from .settings import DEFAULT_PORT, ENV_PREFIX, LOG_LEVELS

Command = Callable[[argparse.Namespace], int]


def _serve(args: argparse.Namespace) -> int:
    import asyncio
    import dataclasses

    import uvicorn

    from .http_protocol import server_protocol
    from .log_format import log_config
    from .settings import Settings, SettingsError

    overrides = {
        "host": args.host,
        "port": args.port,
        "seed": args.seed,
        "public_base_url": args.public_base_url,
        "log_level": args.log_level,
        "auth_mode": args.auth_mode,
        "api_keys": args.api_key or None,
        "strict_workflows": True if args.strict_workflows else None,
        "webhook_url": args.webhook_url,
        "webhook_secret": args.webhook_secret,
        "rate_limits": False if args.no_rate_limits else None,
        "rate_limit_scale": args.rate_limit_scale,
        "decision_rate_limit": args.decision_rate_limit,
        "journal_size": args.journal_size,
        "access_log": True if args.access_log else None,
        "validate_responses": True if args.validate_responses else None,
        "admin_token": args.admin_token,
        "allowed_hosts": args.allow_host or None,
        "max_tenants": args.max_tenants,
        "scenarios": args.scenario or None,
        "state_file": args.state_file,
        "compat": [n.strip() for v in args.compat for n in v.split(",") if n.strip()] if args.compat else None,
    }
    try:
        settings = Settings.from_env(**overrides)
    except SettingsError as exc:
        return _usage_error(args, str(exc))
    problems = settings.problems()  # flags are checked by argparse: these come from DIDIT_MOCK_* variables
    if problems:
        return _usage_error(args, "; ".join(f"{ENV_PREFIX}{name.upper()}: {reason}" for name, reason in problems))
    logging.config.dictConfig(log_config(settings.log_level))
    from .server import BindError, bind_socket

    try:  # bound before anything else starts, so a taken port is the first and only thing said
        sock = bind_socket(settings.host, settings.port)
    except BindError as exc:
        print(f"didit-mock: {exc}", file=sys.stderr)
        return 1
    from .admin.guard import exposure_warning

    warning = exposure_warning(settings)
    if warning:
        logging.getLogger("didit_mock").warning(warning)
    settings = dataclasses.replace(settings, port=sock.getsockname()[1])
    from .app import create_app
    from .durable import StateFileError
    from .scenario import ScenarioInvalid

    try:
        app = create_app(settings)
    except ScenarioInvalid as exc:  # a bad scenario file stops the start, before anything listens
        print(f"didit-mock: cannot load the scenarios:\n{exc}", file=sys.stderr)
        return 1
    except StateFileError as exc:  # so does a bad --state-file
        print(f"didit-mock: {exc}", file=sys.stderr)
        return 1
    _log_accepted_keys(app.registry.allowed_keys)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=log_config(settings.log_level),
        access_log=settings.access_log,
        lifespan="on",
        loop="uvloop",
        http=server_protocol(settings),  # httptools, with head limits and gathered writes
        ws="none",  # the Didit API has no websockets
    )
    _exit_zero_on_sigterm()
    from .server import AnnouncingServer

    tune_garbage_collector()
    # uvicorn re-raises SIGTERM/SIGINT once it has shut down. A Ctrl-C in the instant before it
    # catches signals cancels its main task, which may come out as CancelledError: nothing else
    # cancels that task, so it too is an interrupted start.
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        AnnouncingServer(config, settings.base_url, settings.warm_up).run(sockets=[sock])
    failure = getattr(app.state, "state_file_error", None)
    if failure:  # the state could not be written at shutdown: say so, and exit non-zero
        print(f"didit-mock: {failure}", file=sys.stderr)
        return 1
    return 0


def _usage_error(args: argparse.Namespace, message: str) -> int:
    """An argparse-style error for the subcommand (`usage: ...`, `error: ...`), exit status 2."""
    parser: argparse.ArgumentParser = args.parser
    parser.print_usage(sys.stderr)
    print(f"{parser.prog}: error: {message}", file=sys.stderr)
    return 2


def _log_accepted_keys(keys: set[str]) -> None:
    """Say at start when only some API keys are accepted (`--api-key`, or keys a scenario declares)."""
    if keys:
        logging.getLogger("didit_mock").warning(
            "only these API keys are accepted (from --api-key / DIDIT_MOCK_API_KEYS and the scenarios' "
            "tenants); any other key gets 401: %s", ", ".join(sorted(keys)))


#: Allocations between collections of the youngest generation, and how many collections of each
#: generation trigger one of the next (Python's defaults: 700, 10, 10).
GC_THRESHOLDS = (50_000, 20, 100)


def tune_garbage_collector() -> None:
    """Collect less often in the server process, which keeps every session it creates.

    With Python's defaults, collections that walk the long-lived sessions cost about a tenth of
    each create under load. Start-up objects are frozen out of collections altogether. Only the
    `serve` process is tuned; the in-process server leaves its host's collector alone.
    """
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)



def _exit_zero_on_sigterm() -> None:
    """`docker stop` sends SIGTERM: uvicorn shuts down gracefully, then re-raises the signal; end with 0."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def port_number(text: str) -> int:
    """`--port`: 1-65535, or 0 for any free port (the server says which it bound)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port (1-65535, or 0 for any free port)")
    return port


def _number(kind: type[int] | type[float], minimum: float, above: bool = False) -> Callable[[str], float]:
    """An argparse type: a number of `kind` from `minimum` (or strictly above it)."""
    noun = "a whole number" if kind is int else "a number"

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun}") from None
        if value < minimum or (above and value == minimum) or value != value:
            bound = f"above {minimum:g}" if above else f"from {minimum:g}"
            raise argparse.ArgumentTypeError(f"{text} is not {noun} {bound}")
        return value

    parse.__name__ = kind.__name__
    return parse


def log_level(text: str) -> str:
    if text.lower() not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(LOG_LEVELS)}")
    return text.lower()


def http_url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"{text!r} is not an http:// or https:// URL")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="didit-mock", description="A local emulator of the Didit API.")
    parser.add_argument("--version", action="version", version=f"didit-mock {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the server (flags override DIDIT_MOCK_* variables)")
    serve.add_argument("--host", help="bind address (default 127.0.0.1; env DIDIT_MOCK_HOST)")
    serve.add_argument("--port", type=port_number,
                       help=f"port, 0 for any free one (default {DEFAULT_PORT}; env DIDIT_MOCK_PORT)")
    serve.add_argument("--seed", type=int, help="global random seed (default 0; env DIDIT_MOCK_SEED)")
    serve.add_argument("--public-base-url", type=http_url,
                       help="base of hosted session URLs (env DIDIT_MOCK_PUBLIC_BASE_URL)")
    serve.add_argument("--log-level", type=log_level, metavar="{" + ",".join(LOG_LEVELS) + "}",
                       help="default info (env DIDIT_MOCK_LOG_LEVEL)")
    serve.add_argument("--auth-mode", choices=["docs", "spec"], help="401 for refused keys (docs) or 403 (spec)")
    serve.add_argument("--api-key", action="append", help="accept only this key (repeatable; env DIDIT_MOCK_API_KEYS)")
    serve.add_argument("--strict-workflows", action="store_true", help="refuse unknown workflow ids")
    serve.add_argument("--webhook-url", type=http_url, help="default webhook URL for every tenant")
    serve.add_argument("--webhook-secret", help="default webhook secret for every tenant")
    serve.add_argument("--no-rate-limits", action="store_true", help="switch rate limits off (load tests)")
    serve.add_argument("--rate-limit-scale", type=_number(float, 0, above=True),
                       help="multiply every rate limit, above 0 (e.g. 0.01; min 1/scope)")
    serve.add_argument("--decision-rate-limit", type=_number(int, 1),
                       help="decision GETs per minute (default 600; older docs 100)")
    serve.add_argument("--journal-size", type=_number(int, 0),
                       help="requests kept per tenant in the journal (default 1000; 0: off)")
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.add_argument("--validate-responses", action="store_true",
                       help="check every answer of the emulated API against Didit's OpenAPI and log what breaks it")
    serve.add_argument("--admin-token", help="require this bearer token on /_mock routes")
    serve.add_argument("--allow-host", action="append",
                       help="also answer /_mock routes for this Host name (repeatable; '*': any; "
                            "env DIDIT_MOCK_ALLOWED_HOSTS)")
    serve.add_argument("--max-tenants", type=int,
                       help="most tenants kept; idle ones are dropped first (default 10000; 0: no cap)")
    serve.add_argument("--scenario", action="append", help="scenario file or folder (repeatable)")
    serve.add_argument("--state-file", help="state written on shutdown and loaded on start")
    serve.add_argument("--compat", action="append", metavar="NAME[,NAME]",
                       help="older answers Didit's tools expect: age-estimation-liveness-key, tiny-id-image-400 "
                            "(env DIDIT_MOCK_COMPAT)")
    serve.set_defaults(func=_serve, parser=serve)
    from .scenario import commands as _scenario_commands  # noqa: F401  (registers validate, schema

    for name, (help_text, configure, run) in EXTRA_COMMANDS.items():
        extra = sub.add_parser(name, help=help_text)
        configure(extra)
        extra.set_defaults(func=run, parser=extra)
    return parser


#: Further subcommands: name -> (help, configure(parser), run(args) -> exit code).
EXTRA_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Command]] = {}


def main(argv: Sequence[str] | None = None) -> int:
    """Run a subcommand; Ctrl-C (or SIGTERM) at any point, start-up included, ends quietly with 0."""
    try:
        args, unknown = build_parser().parse_known_args(argv)
        if unknown:  # the subcommand's usage, not the top-level one
            args.parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        return int(args.func(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
