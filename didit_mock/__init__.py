"""didit-mock: a local, stateful emulator of the Didit identity-verification API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["create_app", "MockServer", "Settings", "__version__"]

if TYPE_CHECKING:
    from .app import create_app
    from .server import MockServer
    from .settings import Settings


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "MockServer":
        from .server import MockServer

        return MockServer
    if name == "Settings":
        from .settings import Settings

        return Settings
    raise AttributeError(name)
