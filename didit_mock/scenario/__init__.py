"""Scenario files: YAML documents that script outcomes, timing, OTP behaviour, webhooks and faults.

* `schema`: the pydantic models of the format (and the exported JSON Schema);
* `reading`: the text into data and YAML nodes, within the size, nesting and alias limits;
* `loader`: validation of the data, every problem in one pass as `path:line: reason`;
* `locating`: pydantic locations to YAML lines, and the wording of each problem;
* `problems`: `Problem` and `ScenarioInvalid`;
* `engine`: applies scenarios to the registry and its tenants, through the domain functions;
* `faults`: what the gateway applies to inject latency, error statuses and dropped connections;
* `reload`: the watcher that reloads changed files, keeping the last good set.
"""

from __future__ import annotations

from .loader import LoadedScenario, Problem, ScenarioInvalid, load_paths, load_text

__all__ = ["LoadedScenario", "Problem", "ScenarioInvalid", "load_paths", "load_text"]
