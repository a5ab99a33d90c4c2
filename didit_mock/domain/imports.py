"""Session imports (`/v3/session/imports/`): asynchronous jobs on the tenant clock.

A job is created PENDING with its file (or a URL, which this offline mock never fetches). When the
tenant clock passes `START_AFTER` seconds it becomes PROCESSING and its rows are read and checked;
`ROWS_PER_SECOND` later it is COMPLETED: each valid row of a user or business verification import
became a session (`vendor_data` makes its user or business, as any session does), each valid row of
a transactions import a monitored transaction, and each bad row is listed with its number,
external_id and error. A URL import, an unreadable file and status-rule imports (not emulated)
end FAILED with `last_error`.

Rows are idempotent per application by `external_id`: the same row again is skipped, a changed
row updates its session. One job at a time is active per application.

A job's status can also be PAUSED or CANCELLED, which no call of Didit's API asks for; the admin API
sets them here (`pause`, `resume`, `cancel`): a paused job keeps its place and the time its next
step had left, and stays the application's active job; a cancelled one ends without importing
the rows it had not imported yet.
"""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import import_rows as rows_domain
from . import sessions as sessions_domain
from .errors import DiditError, NotFound, PermissionDenied, ValidationFailed
from .import_rows import FileProblem, RowProblem
from .sessions import Session

if TYPE_CHECKING:
    from .tenant import Tenant
    from .workflows import Workflow

PENDING, PROCESSING, COMPLETED, FAILED = "PENDING", "PROCESSING", "COMPLETED", "FAILED"
PAUSED, CANCELLED = "PAUSED", "CANCELLED"
ACTIVE_STATUSES = frozenset({PENDING, PROCESSING, PAUSED})
#: Seconds a job waits before a worker takes it, and rows processed per second of the tenant clock.
START_AFTER = 1.0
ROWS_PER_SECOND = 100
#: The largest file an import takes (Didit: 25 MB).
MAX_FILE_BYTES = 25 * 1024 * 1024
#: A row error list's `count` is exact up to this many, then capped.
COUNT_CAP = 100

DISABLED = "Verification imports are not enabled for this organization."
SANDBOX = "Verification imports are not enabled for sandbox applications."
ACTIVE_JOB = "This application already has an active import job. Wait for it to finish before starting another."
INVALID_WORKFLOW = "Invalid workflow_id."
WORKFLOW_REQUIRED = "This field is required for this import type."
WRONG_FILE_TYPE = "Only CSV and NDJSON files are supported."
FILE_TOO_LARGE = "Import file exceeds the maximum allowed size."
NO_SOURCE = "Upload a file or provide source_file_url."
BOTH_SOURCES = "Use either file or source_file_url, not both."
BAD_URL = "Enter a valid URL."
NOT_HTTPS = "source_file_url must be an HTTPS URL."
PRIVATE_URL = "source_file_url must resolve to a public address."
NO_FORMAT = "Could not infer the format from source_file_url; set source_format to csv or ndjson."
FETCH_FAILED = ("Could not download source_file_url: didit-mock runs offline and never fetches remote files. "
                "Upload the file instead.")
NOT_UTF8 = "The import file is not UTF-8 text."
NOT_EMULATED = "didit-mock does not emulate {} imports: the job reads no rows."
#: Set `imports_enabled: false` in a tenant's config extras to see Didit's "not enabled" answer.
ENABLED_KEY = "imports_enabled"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass
class RowError:
    uuid: str
    row_number: int
    external_id: str | None
    error: str
    raw_row: dict[str, Any]
    created_at: float

    def view(self) -> dict[str, Any]:
        return {"uuid": self.uuid, "row_number": self.row_number, "external_id": self.external_id,
                "error": self.error, "raw_row": self.raw_row, "created_at": _iso(self.created_at)}


@dataclass
class ImportJob:
    uuid: str
    status: str
    import_type: str
    source_format: str
    source_filename: str
    workflow_id: str | None
    created_at: float
    updated_at: float
    #: The file's text until the job has read it (None for a URL import or once processed).
    source_text: str | None = None
    source_url: str | None = None
    source_problem: str | None = None
    total_rows: int = 0
    processed_rows: int = 0
    checkpoint_row: int = 0
    created_count: int = 0
    updated_count: int = 0
    skipped_count: int = 0
    failed_count: int = 0
    total_media_bytes: int = 0
    last_error: str | None = None
    started_at: float | None = None
    completed_at: float | None = None
    #: When a PROCESSING job completes (tenant clock).
    finish_due: float | None = None
    #: When a PENDING job starts (tenant clock; None: `START_AFTER` after its creation).
    start_due: float | None = None
    #: A PAUSED job's status before the pause, and the seconds its next step had left.
    paused_from: str | None = None
    paused_left: float = 0.0
    #: The rows read at the start, kept until the job completes.
    pending_rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid, "status": self.status, "import_type": self.import_type,
            "source_format": self.source_format, "source_filename": self.source_filename,
            "total_rows": self.total_rows, "processed_rows": self.processed_rows,
            "checkpoint_row": self.checkpoint_row, "created_count": self.created_count,
            "updated_count": self.updated_count, "skipped_count": self.skipped_count,
            "failed_count": self.failed_count, "total_media_bytes": self.total_media_bytes,
            "last_error": self.last_error, "created_at": _iso(self.created_at), "updated_at": _iso(self.updated_at),
            "started_at": _iso(self.started_at) if self.started_at is not None else None,
            "completed_at": _iso(self.completed_at) if self.completed_at is not None else None,
        }


@dataclass
class Imported:
    """What an external_id became: its session (or transaction) and the row's values (to tell a changed row)."""

    record_id: str
    values: dict[str, Any]


class ImportBook:
    """A tenant's import jobs (in creation order) and the sessions their rows made, by external_id."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self.jobs: dict[str, ImportJob] = {}
        self.imported: dict[str, Imported] = {}

    def get(self, job_id: str) -> ImportJob:
        job = self.jobs.get(job_id.lower())
        if job is None:
            raise NotFound()
        return job

    def active(self) -> ImportJob | None:
        return next((j for j in self.jobs.values() if j.status in ACTIVE_STATUSES), None)


def book(tenant: Tenant) -> ImportBook:
    return tenant.component(ImportBook)


# ---------------------------------------------------------------- creating a job

@dataclass(frozen=True)
class NewImport:
    """What a create request asks for, read by the web layer."""

    import_type: str
    workflow_id: str | None
    source_format: str | None
    filename: str | None = None
    data: bytes | None = None
    url: str | None = None


def check_enabled(tenant: Tenant) -> None:
    """403 for a sandbox application, or when the tenant's imports are switched off."""
    if tenant.config.extra.get(ENABLED_KEY) is False:
        raise PermissionDenied(DISABLED)
    if tenant.is_sandbox:
        raise PermissionDenied(SANDBOX)


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise ValidationFailed.field("source_file_url", BAD_URL) from None
    if not parts.scheme or not host:
        raise ValidationFailed.field("source_file_url", BAD_URL)
    if parts.scheme.lower() != "https":
        raise ValidationFailed.field("source_file_url", NOT_HTTPS)
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise ValidationFailed.field("source_file_url", PRIVATE_URL)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return
    if not address.is_global:
        raise ValidationFailed.field("source_file_url", PRIVATE_URL)


def _workflow(tenant: Tenant, request: NewImport) -> str | None:
    if request.import_type == rows_domain.TRANSACTIONS:
        return None
    if not request.workflow_id:
        raise ValidationFailed.field("workflow_id", WORKFLOW_REQUIRED)
    workflow_id = request.workflow_id.lower()
    if not _UUID.match(workflow_id):
        raise ValidationFailed.field("workflow_id", INVALID_WORKFLOW)
    workflows = sessions_domain.workflows(tenant)
    found = workflows.find(workflow_id)
    if request.import_type == rows_domain.BUSINESS_VERIFICATION:
        if found is None or found.template != "kyb":
            raise ValidationFailed.field("workflow_id", INVALID_WORKFLOW)
    elif found is None and tenant.config.strict_workflows:
        raise ValidationFailed.field("workflow_id", INVALID_WORKFLOW)
    return workflow_id


def _source(request: NewImport) -> tuple[str, str]:
    """The job's source format and file name, checked."""
    if request.data is not None and request.url:
        raise ValidationFailed.field("file", BOTH_SOURCES)
    if request.data is None and not request.url:
        raise ValidationFailed.field("file", NO_SOURCE)
    if request.data is not None:
        name = request.filename or "upload"
        found = request.source_format or rows_domain.infer_format(name)
        if found is None:
            raise ValidationFailed.field("file", WRONG_FILE_TYPE)
        if len(request.data) > MAX_FILE_BYTES:
            raise ValidationFailed.field("file", FILE_TOO_LARGE)
        return found, name
    url = str(request.url)
    _check_url(url)
    name = urlsplit(url).path.rsplit("/", 1)[-1] or urlsplit(url).hostname or "remote"
    found = request.source_format or rows_domain.infer_format(name)
    if found is None:
        raise ValidationFailed.field("source_format", NO_FORMAT)
    return found, name


def create_job(tenant: Tenant, request: NewImport) -> ImportJob:
    """A new PENDING job (400 for a bad request, 429 while another job is active). Under the lock."""
    source_format, filename = _source(request)
    workflow_id = _workflow(tenant, request)
    imports = book(tenant)
    if imports.active() is not None:
        raise DiditError({"detail": ACTIVE_JOB}, 429)
    now = tenant.clock.timestamp()
    job = ImportJob(tenant.rng.uuid4(), PENDING, request.import_type, source_format, filename, workflow_id,
                    now, now, source_url=request.url or None)
    if request.data is not None:
        try:
            job.source_text = request.data.decode("utf-8")
        except UnicodeDecodeError:
            job.source_problem = NOT_UTF8
    imports.jobs[job.uuid] = job
    _schedule(tenant, job)
    return job


# ---------------------------------------------------------------- running a job on the clock

def _start_due(job: ImportJob) -> float:
    return job.start_due if job.start_due is not None else job.created_at + START_AFTER


def _schedule(tenant: Tenant, job: ImportJob) -> None:
    """Schedule the job's next step (after a restart too)."""
    if job.status == PENDING:
        tenant.scheduler.at(_start_due(job), _start, tenant, job.uuid)
    elif job.status == PROCESSING and job.finish_due is not None:
        tenant.scheduler.at(job.finish_due, _finish, tenant, job.uuid)


def _step_is_due(tenant: Tenant, due: float) -> bool:
    """Whether a step scheduled for an earlier instant still stands (a resumed job's moved later)."""
    return tenant.clock.timestamp() >= due


# ---------------------------------------------------------------- pause, resume, cancel (admin API)

def pause(tenant: Tenant, job_id: str) -> ImportJob:
    """PENDING or PROCESSING -> PAUSED, keeping what its next step had left (409 otherwise)."""
    job = book(tenant).get(job_id)
    if job.status not in (PENDING, PROCESSING):
        raise DiditError({"detail": f"Only a pending or processing import can be paused; this one is {job.status}."},
                         409)
    now = tenant.clock.timestamp()
    due = _start_due(job) if job.status == PENDING else (job.finish_due if job.finish_due is not None else now)
    job.paused_from, job.paused_left = job.status, max(0.0, due - now)
    job.status, job.updated_at = PAUSED, now
    return job


def resume(tenant: Tenant, job_id: str) -> ImportJob:
    """PAUSED -> the status it had; its next step comes as long after now as it had left (409 otherwise)."""
    job = book(tenant).get(job_id)
    if job.status != PAUSED:
        raise DiditError({"detail": f"Only a paused import can be resumed; this one is {job.status}."}, 409)
    now = tenant.clock.timestamp()
    job.status, job.updated_at = job.paused_from or PENDING, now
    if job.status == PENDING:
        job.start_due = now + job.paused_left
    else:
        job.finish_due = now + job.paused_left
    job.paused_from, job.paused_left = None, 0.0
    _schedule(tenant, job)
    return job


def cancel(tenant: Tenant, job_id: str) -> ImportJob:
    """A pending, processing or paused job -> CANCELLED: the rows it had not imported never are (409 otherwise)."""
    job = book(tenant).get(job_id)
    if job.status not in ACTIVE_STATUSES:
        raise DiditError({"detail": f"Only an active import can be cancelled; this one is {job.status}."}, 409)
    now = tenant.clock.timestamp()
    job.status, job.completed_at, job.updated_at = CANCELLED, now, now
    job.finish_due, job.paused_from, job.paused_left = None, None, 0.0
    job.source_text, job.pending_rows = None, []
    return job


def _fail(job: ImportJob, message: str, at: float) -> None:
    job.status, job.last_error = FAILED, message
    job.started_at = job.started_at if job.started_at is not None else at
    job.completed_at = job.updated_at = at
    job.source_text = None
    job.pending_rows = []


def _start(tenant: Tenant, job_id: str) -> None:
    """PENDING -> PROCESSING: read the file; a job that cannot run fails here. Times are the step's
    own instant, so one long move of the clock runs every step that falls within it."""
    job = book(tenant).jobs.get(job_id)
    if job is None or job.status != PENDING or not _step_is_due(tenant, _start_due(job)):
        return
    at = _start_due(job)
    if job.source_url is not None:
        problem: str | None = FETCH_FAILED
    elif job.import_type not in rows_domain.ROW_TYPES:
        problem = NOT_EMULATED.format(job.import_type)
    else:
        problem = job.source_problem
    read: list[rows_domain.RawRow] = []
    if problem is None:
        try:
            read = rows_domain.read_rows(job.source_text or "", job.source_format, job.import_type)
        except FileProblem as unreadable:
            problem = str(unreadable)
    if problem is not None:
        _fail(job, problem, at)
        return
    job.status, job.started_at, job.updated_at = PROCESSING, at, at
    job.total_rows = len(read)
    job.pending_rows = [{"number": r.number, "fields": r.fields, "problem": r.problem} for r in read]
    job.source_text = None
    job.finish_due = at + max(1, math.ceil(len(read) / ROWS_PER_SECOND))
    _schedule(tenant, job)


def _finish(tenant: Tenant, job_id: str) -> None:
    """PROCESSING -> COMPLETED: every row imported or listed as an error."""
    job = book(tenant).jobs.get(job_id)
    if job is None or job.status != PROCESSING or (job.finish_due is not None
                                                   and not _step_is_due(tenant, job.finish_due)):
        return
    now = job.finish_due if job.finish_due is not None else tenant.clock.timestamp()
    seen: set[str] = set()
    for row in job.pending_rows:
        number, fields = int(row["number"]), dict(row["fields"])
        try:
            if row.get("problem"):
                raise RowProblem(str(row["problem"]))
            if job.import_type == rows_domain.TRANSACTIONS:
                values = rows_domain.check_transaction_row(fields, now)
            else:
                values = rows_domain.check_row(job.import_type, fields, now)
            if values["external_id"] in seen:
                raise RowProblem(f"external_id: '{values['external_id']}' appears twice in this file")
            seen.add(values["external_id"])
            if job.import_type == rows_domain.TRANSACTIONS:
                outcome = _apply_transaction(tenant, values)
            else:
                outcome = _apply(tenant, job, values, now)
        except RowProblem as problem:
            external = fields.get("external_id")
            job.errors.append(RowError(tenant.rng.uuid4(), number, str(external) if external not in (None, "") else
                                       None, str(problem), rows_domain.raw_row(fields), now))
            job.failed_count += 1
        else:
            if outcome == "created":
                job.created_count += 1
            elif outcome == "updated":
                job.updated_count += 1
            else:
                job.skipped_count += 1
        job.processed_rows += 1
        job.checkpoint_row = number
    job.pending_rows = []
    job.status, job.completed_at, job.updated_at, job.finish_due = COMPLETED, now, now, None


# ---------------------------------------------------------------- a row becomes a session

def _workflow_of(tenant: Tenant, job: ImportJob) -> Workflow:
    workflows = sessions_domain.workflows(tenant)
    return workflows.find(str(job.workflow_id)) or workflows.resolve(str(job.workflow_id), strict=False)


def _decision(job: ImportJob) -> dict[str, Any]:
    """What the imported session's decision shows beyond its own identity: no checks were re-run."""
    kind = "business" if job.import_type == rows_domain.BUSINESS_VERIFICATION else "user"
    return {"session_kind": kind, "features": []}


def _identity(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The row's person, as the session's corrected ID data (users read their name from it)."""
    names = ("first_name", "last_name", "date_of_birth", "document_type", "document_number", "issuing_state",
             "nationality")
    found = {k: values[k] for k in names if values.get(k) is not None}
    return {"ID_VERIFICATION": found} if found else {}


def _apply(tenant: Tenant, job: ImportJob, values: dict[str, Any], at: float) -> str:
    """Create (or update, or skip) the session of a checked row at the instant `at` of the job:
    `created`, `updated` or `skipped`."""
    imports = book(tenant)
    sessions = sessions_domain.book(tenant)
    key = f"{job.import_type}:{values['external_id']}"
    known = imports.imported.get(key)
    existing = sessions.get(known.record_id) if known is not None else None
    if existing is not None and not existing.deleted and known is not None:
        if known.values == values:
            return "skipped"
        _update(tenant, existing, job, values, at)
        known.values = values
        return "updated"
    workflow = _workflow_of(tenant, job)
    created = values["created_at"] if values["created_at"] is not None else at
    session = Session(
        session_id=tenant.rng.uuid4(), session_number=sessions.next_number(), session_token=tenant.rng.token(12),
        workflow=workflow, url=None,  # type: ignore[arg-type]  # an imported session has no hosted link
        created_at=created, expires_at=None, vendor_data=values["vendor_data"],
        metadata={"external_id": values["external_id"], "import_id": job.uuid},
        status=values["status"], started_at=created, finished_at=created,
        outcomes={}, data_overrides=_identity(values), imported_decision=_decision(job),
    )
    session.timeline += ((session.status, created),)
    sessions.add(session)
    _announce(tenant, session, job, values)
    imports.imported[key] = Imported(session.session_id, values)
    return "created"


def _update(tenant: Tenant, session: Session, job: ImportJob, values: dict[str, Any], at: float) -> None:
    sessions = sessions_domain.book(tenant)
    if session.vendor_data != values["vendor_data"]:
        sessions.remove(session)
        session.vendor_data = values["vendor_data"]
        sessions.add(session)
    old = session.status
    if values["status"] != old:
        session.status = values["status"]
        session.timeline += ((session.status, at),)
        sessions.reindex_status(session, old)
    session.data_overrides = _identity(values)
    session.imported_decision = _decision(job)
    session.metadata = {"external_id": values["external_id"], "import_id": job.uuid}
    session.touch()
    _announce(tenant, session, job, values)


def _announce(tenant: Tenant, session: Session, job: ImportJob, values: dict[str, Any]) -> None:
    """The registry's imported-session hooks (the user or business it belongs to), then the business's
    profile fields from the row when the business has none yet."""
    for hook in tenant.registry.wiring.session_imported:
        hook(tenant, session)
    if job.import_type != rows_domain.BUSINESS_VERIFICATION or session.vendor_data is None:
        return
    from . import users

    entity = users.book(tenant).by_vendor(users.BUSINESS, session.vendor_data)
    if entity is not None:
        given = {name: values[name] for name in ("legal_name", "registration_number", "country_code")
                 if values.get(name) is not None and name not in entity.profile}
        if given:
            entity.profile = {**entity.profile, **given}  # replaced, never changed in place


# ---------------------------------------------------------------- a row becomes a transaction

def _apply_transaction(tenant: Tenant, values: dict[str, Any]) -> str:
    """Submit a transactions row as `POST /v3/transactions/` would (the tenant's rules monitor it);
    an external_id imported before is skipped."""
    imports = book(tenant)
    key = f"{rows_domain.TRANSACTIONS}:{values['external_id']}"
    if key in imports.imported:
        return "skipped"
    submit = tenant.registry.wiring.transaction_submitter
    if submit is None:
        raise RowProblem("transactions cannot be submitted in this server")
    body: dict[str, Any] = {
        "transaction_id": values["external_id"], "transaction_category": "finance",
        "transaction_details": {"direction": values["direction"], "amount": values["amount"],
                                "currency": values["currency"],
                                "action_type": "deposit" if values["direction"] == "inbound" else "withdrawal"},
        "subject": {"entity_type": "individual", "vendor_data": values["vendor_data"]},
    }
    if values["created_at"] is not None:
        body["transaction_at"] = datetime.fromtimestamp(values["created_at"], tz=timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
    if values["counterparty_name"] is not None:
        body["counterparty"] = {"entity_type": "individual", "full_name": values["counterparty_name"]}
    try:
        transaction = submit(tenant, body)
    except DiditError as refused:
        raise RowProblem(_row_message(refused.body)) from None
    imports.imported[key] = Imported(str(transaction.get("uuid")), values)
    return "created"


def _row_message(body: Any) -> str:
    """A refused submission as a row error: `field: message`."""
    if isinstance(body, dict) and body:
        name, problem = next(iter(body.items()))
        text = problem[0] if isinstance(problem, list) and problem else problem
        return f"{name}: {text}"
    return str(body)


# ---------------------------------------------------------------- reading

def row_errors(tenant: Tenant, job_id: str) -> list[RowError]:
    return sorted(book(tenant).get(job_id).errors, key=lambda e: e.row_number)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------- persistence

def state_section() -> Any:
    """The import jobs' section of the state document (`extensions.session_imports`)."""
    from .state import StateInvalid, StateSection

    def export(tenant: Tenant) -> dict[str, Any]:
        imports = book(tenant)
        return {"jobs": [asdict(j) for j in imports.jobs.values()],
                "imported": {k: asdict(v) for k, v in imports.imported.items()}}

    def parse(value: Any, path: str) -> tuple[list[ImportJob], dict[str, Imported]]:
        if not isinstance(value, dict):
            raise StateInvalid(f"{path}: an object is expected.")
        try:
            jobs = []
            for raw in value.get("jobs", []):
                job = ImportJob(**{**raw, "errors": []})
                job.errors = [RowError(**e) for e in raw.get("errors", [])]
                jobs.append(job)
            imported = {str(k): Imported(**v) for k, v in (value.get("imported") or {}).items()}
        except (TypeError, AttributeError) as problem:
            raise StateInvalid(f"{path}: {problem}") from None
        return jobs, imported

    def restore(tenant: Tenant, parsed: tuple[list[ImportJob], dict[str, Imported]]) -> None:
        imports = book(tenant)
        jobs, imported = parsed
        imports.jobs = {j.uuid: j for j in jobs}
        imports.imported = dict(imported)

    def rearm(tenant: Tenant) -> None:
        """The next step of each pending or processing job."""
        for job in book(tenant).jobs.values():
            _schedule(tenant, job)

    return StateSection("session_imports", export, parse, restore, after=("sessions",), rearm=rearm)
