"""`MockServer`: the app under uvicorn in a background thread, on a free port."""

from __future__ import annotations

import errno
import socket
import threading
from types import TracebackType
from typing import TYPE_CHECKING

import uvicorn

from .app import create_app
from .http_protocol import server_protocol
from .settings import Settings
from .warmup import start_warm_up

if TYPE_CHECKING:
    from .domain.tenant import TenantRegistry


class AnnouncingServer(uvicorn.Server):
    """A uvicorn server that prints the address it bound once it is ("listening" means it is).

    `url` is the address to open (the public base URL); it is named too when it is not the bound one.
    """

    def __init__(self, config: uvicorn.Config, url: str, warm_up: bool = True):
        super().__init__(config)
        self.url = url
        self.warm_up = warm_up

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            print(announcement(self.bound_urls(), self.url), flush=True)
            if self.warm_up:
                start_warm_up(self.config.app)  # after the announcement: readiness does not wait for it

    def bound_urls(self) -> list[str]:
        """`http://host:port` of every socket the server listens on."""
        urls = []
        for server in getattr(self, "servers", []):
            for sock in server.sockets:
                host, port = sock.getsockname()[:2]
                urls.append(f"http://[{host}]:{port}" if ":" in str(host) else f"http://{host}:{port}")
        return urls


def announcement(bound: list[str], url: str) -> str:
    """The start-up line: the bound addresses, and where to open the server when that differs."""
    listening = ", ".join(bound) or url
    wildcard = any(u.startswith(("http://0.0.0.0:", "http://[::]:")) for u in bound)
    if bound and url not in bound:
        where = "every interface; open " if wildcard else "open "
        listening += f" ({where}{url})"
    return f"didit-mock listening on {listening} (Ctrl-C to stop)"


class BackgroundServer(uvicorn.Server):
    """A uvicorn server for a background thread: `ready` is set once its start-up ends, bound or not."""

    def __init__(self, config: uvicorn.Config, warm_up: bool = True):
        super().__init__(config)
        self.ready = threading.Event()
        self.warm_up = warm_up
        #: The warm-up thread, once started (`MockServer.wait_warm`).
        self.warm_up_thread: threading.Thread | None = None

    def install_signal_handlers(self) -> None:
        """Signals belong to the main thread (older uvicorn versions call this)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.warm_up:
            self.warm_up_thread = start_warm_up(self.config.app)
        self.ready.set()  # `started` tells whether it is listening

    def run_in_thread(self) -> None:
        """The thread's target: `ready` is set even when the server fails before its start-up."""
        try:
            self.run()
        except SystemExit:  # uvicorn's way out when it cannot start (port taken, failed lifespan): `start` says so
            pass
        finally:
            self.ready.set()


class BindError(OSError):
    """The server cannot listen where it was asked to; the message is one line for a person."""


PORT_HINT = "choose another with --port or DIDIT_MOCK_PORT"


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening-ready socket bound to `host:port` (port 0: any free port), or `BindError`."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise BindError(f"cannot resolve the host {host!r} ({exc.strerror}); "
                        "set a name or address this machine has with --host or DIDIT_MOCK_HOST") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        where = f"{host}:{port}"
        if exc.errno == errno.EADDRINUSE:
            raise BindError(f"port {port} is already in use on {host}; {PORT_HINT}") from None
        if exc.errno == errno.EACCES:
            raise BindError(f"no permission to listen on {where}; {PORT_HINT} (ports below 1024 need root)") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise BindError(f"{host} is not an address of this machine; "
                            "set one it has with --host or DIDIT_MOCK_HOST (0.0.0.0: every address)") from None
        raise BindError(f"cannot listen on {where}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class MockServer:
    """Run didit-mock in-process: `with MockServer() as server: httpx.get(server.url + ...)`.

    Without an explicit `port` (in `settings` or the overrides) a free loopback port is used.
    """

    def __init__(self, settings: Settings | None = None, **overrides: object):
        base = settings or Settings.from_env(environ={}, port=0)
        values = {**base.__dict__, **overrides}
        if not values.get("port"):
            values["port"] = free_port(str(values.get("host") or "127.0.0.1"))
        self.settings = Settings(**values)  # type: ignore[arg-type]
        self.app = create_app(self.settings)
        self._server: BackgroundServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.port}"

    @property
    def registry(self) -> TenantRegistry:
        registry = self.app.registry
        return registry

    def start(self, timeout: float = 10.0) -> MockServer:
        config = uvicorn.Config(
            self.app,
            host=self.settings.host,
            port=self.settings.port,
            log_level="warning",
            access_log=self.settings.access_log,
            lifespan="on",
            http=server_protocol(self.settings),
            ws="none",  # the Didit API has no websockets
        )
        self._server = BackgroundServer(config, self.settings.warm_up)
        self._thread = threading.Thread(target=self._server.run_in_thread, name="didit-mock", daemon=True)
        self._thread.start()
        if not self._server.ready.wait(timeout) or not self._server.started:
            raise RuntimeError(f"didit-mock did not start on {self.url}")
        return self

    def wait_warm(self, timeout: float = 30.0) -> bool:
        """Wait for the start-up warm-up (see `warmup`); False when it is still running."""
        thread = self._server.warm_up_thread if self._server is not None else None
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self._server = None
        self._thread = None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
