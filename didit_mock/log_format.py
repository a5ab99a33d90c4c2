"""One log format for the project's loggers and uvicorn's, as a `logging.config` dictionary."""

from __future__ import annotations

from typing import Any

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_config(level: str) -> dict[str, Any]:
    """A `dictConfig` for uvicorn's `log_config`: every logger writes through one stderr handler.

    uvicorn's own loggers propagate to the root logger instead of keeping their handlers, so
    `uvicorn.error`, `uvicorn.access` and `didit_mock.*` lines all read `time LEVEL name: message`.
    """
    numeric = "DEBUG" if level.lower() == "trace" else level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"format": LOG_FORMAT}},
        "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": True},
        },
        "root": {"handlers": ["default"], "level": numeric},
    }
