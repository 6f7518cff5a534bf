"""``llmspell state | session | runs | audit``: look into and change the persistent store.

Every command takes ``--db PATH``; without it the database comes from the configuration
(``[storage]``, ``LLMSPELL_STORAGE__PATH``), else the user data folder. Commands print JSON with
``--json`` or the global ``--output json``. llmspell errors propagate to the main command, which
prints them and sets the exit status.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, TypeVar

import click

from llmspell.core.config import load_config
from llmspell.core.errors import NotFoundError, ValidationError
from llmspell.state.artifacts import ArtifactStore
from llmspell.state.audit import AuditLog
from llmspell.state.checkpoints import CheckpointStore
from llmspell.state.conversations import ConversationStore
from llmspell.state.runs import STATUSES as RUN_STATUSES
from llmspell.state.runs import RunStore
from llmspell.state.sessions import STATUSES as SESSION_STATUSES
from llmspell.state.sessions import SessionStore
from llmspell.state.state import StateStore
from llmspell.state.store import Store, open_store
from llmspell_utils import jsonutil
from llmspell_utils.fs import atomic_write

F = TypeVar("F", bound=Callable[..., Any])


def db_option(fn: F) -> F:
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False),
        help="Database file (default: [storage] path in the config, else the user data folder).",
    )(fn)


def json_option(fn: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(fn)


def root_options() -> dict[str, Any]:
    obj = click.get_current_context().find_root().obj
    return obj if isinstance(obj, dict) else {}


def json_mode(as_json: bool = False) -> bool:
    return as_json or root_options().get("output") == "json"


@contextmanager
def opened(db_path: str | None) -> Iterator[Store]:
    """The store a command works on, closed at the end of the block."""
    if db_path is not None:
        store = open_store(path=db_path)
    else:
        store = open_store(load_config(root_options().get("config_path")))
    with store:
        yield store


def echo_json(value: Any) -> None:
    click.echo(jsonutil.dumps(value, pretty=True))


def when(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    return datetime.datetime.fromtimestamp(timestamp).isoformat(sep=" ", timespec="seconds")


def short(value: Any, width: int = 70) -> str:
    text = jsonutil.dumps(value)
    return text if len(text) <= width else text[: width - 1] + "…"


# ---- state -------------------------------------------------------------------------------

scope_option = click.option(
    "--scope", default="global", show_default=True, help="Scope: global, agent:<name>, ..."
)


@click.group("state")
def state() -> None:
    """Show and change State values kept between runs."""


@state.command("show")
@click.option("--scope", default=None, help="Only this scope.")
@db_option
@json_option
def state_show(scope: str | None, db_path: str | None, as_json: bool) -> None:
    """Show every scope, key and value."""
    with opened(db_path) as store:
        data = StateStore(store).export(scope)
    if json_mode(as_json):
        echo_json(data)
        return
    if not data:
        click.echo("no state")
    for name, entries in data.items():
        click.echo(f"[{name}]")
        for key, value in entries.items():
            click.echo(f"  {key} = {short(value)}")


@state.command("get")
@click.argument("key")
@scope_option
@db_option
@json_option
def state_get(key: str, scope: str, db_path: str | None, as_json: bool) -> None:
    """Print a value (strings as they are, anything else as JSON)."""
    missing = object()
    with opened(db_path) as store:
        value = StateStore(store).load(scope, key, missing)
        if value is missing:
            raise NotFoundError(f"key '{key}' not found in scope '{scope}'")
    if isinstance(value, str) and not json_mode(as_json):
        click.echo(value)
    else:
        echo_json(value)


@state.command("set")
@click.argument("key")
@click.argument("value")
@scope_option
@click.option("--string", "as_string", is_flag=True, help="Keep VALUE as text, even if JSON.")
@db_option
def state_set(key: str, value: str, scope: str, as_string: bool, db_path: str | None) -> None:
    """Set KEY to VALUE: JSON when it parses (5, true, {"a": 1}), else text."""
    parsed: Any = value
    if not as_string:
        try:
            parsed = jsonutil.loads(value)
        except ValueError:
            parsed = value
    with opened(db_path) as store:
        StateStore(store).save(scope, key, parsed)


@state.command("delete")
@click.argument("key")
@scope_option
@db_option
def state_delete(key: str, scope: str, db_path: str | None) -> None:
    """Delete KEY."""
    with opened(db_path) as store:
        if not StateStore(store).delete(scope, key):
            raise NotFoundError(f"key '{key}' not found in scope '{scope}'")


@state.command("export")
@click.option("--scope", default=None, help="Only this scope.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file.")
@db_option
def state_export(scope: str | None, output: str | None, db_path: str | None) -> None:
    """Write State as JSON ({scope: {key: value}}) to stdout or a file."""
    with opened(db_path) as store:
        data = StateStore(store).export(scope)
    text = jsonutil.dumps(data, pretty=True) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        atomic_write(output, text)


@state.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@db_option
def state_import(file: IO[str], db_path: str | None) -> None:
    """Load State from a JSON file made by export ('-' reads stdin); all or nothing."""
    with opened(db_path) as store:
        try:
            data = jsonutil.loads(file.read())
        except ValueError as exc:
            raise ValidationError(f"{file.name}: {exc}") from None
        count = StateStore(store).import_(data)
    if json_mode():
        echo_json({"imported": count})
    else:
        click.echo(f"imported {count} keys")


# ---- session -----------------------------------------------------------------------------


@click.group("session")
def session() -> None:
    """List, show and delete sessions."""


@session.command("list")
@click.option("--tag", "tags", multiple=True, help="Only sessions with this tag (repeatable).")
@click.option("--status", type=click.Choice(SESSION_STATUSES))
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True)
@db_option
@json_option
def session_list(
    tags: tuple[str, ...], status: str | None, limit: int, db_path: str | None, as_json: bool
) -> None:
    """List sessions, most recently used first."""
    with opened(db_path) as store:
        sessions = SessionStore(store).list(tags=list(tags), status=status, limit=limit)
    if json_mode(as_json):
        echo_json(sessions)
        return
    if not sessions:
        click.echo("no sessions")
    for s in sessions:
        tag_text = f"  [{', '.join(s['tags'])}]" if s["tags"] else ""
        click.echo(
            f"{s['id']}  {s['status']:<9}  {when(s['updated_at'])}  "
            f"{s['artifact_count']:>3} artifacts  {s['name']}{tag_text}"
        )


@session.command("show")
@click.argument("ref", metavar="SESSION")
@db_option
@json_option
def session_show(ref: str, db_path: str | None, as_json: bool) -> None:
    """Show a session (by id or name), its runs' tokens and cost, artifacts and conversations."""
    with opened(db_path) as store:
        record = SessionStore(store).resolve(ref)
        if record is None:
            raise NotFoundError(f"session '{ref}' not found")
        record["totals"] = RunStore(store).session_totals(record["id"])
        record["artifacts"] = ArtifactStore(store).list(record["id"])
        record["conversations"] = ConversationStore(store).agents(record["id"])
    if json_mode(as_json):
        echo_json(record)
        return
    for key in ("id", "name", "description", "status", "tags"):
        click.echo(f"{key}: {record[key]}")
    click.echo(f"created: {when(record['created_at'])}  updated: {when(record['updated_at'])}")
    if record["metadata"]:
        click.echo(f"metadata: {short(record['metadata'])}")
    totals = record["totals"]
    click.echo(
        f"runs: {totals['runs']}  tokens: {totals['input_tokens']} in, "
        f"{totals['output_tokens']} out  cost: ${totals['cost_usd']:.4f}"
    )
    click.echo(f"conversations: {', '.join(record['conversations']) or '-'}")
    click.echo(f"artifacts: {len(record['artifacts'])}")
    for art in record["artifacts"]:
        click.echo(
            f"  {art['sequence']:>4}  {art['type']:<10} {art['size']:>10} B  "
            f"{art['content_hash'][:12]}  {art['name']}"
        )


@session.command("delete")
@click.argument("ref", metavar="SESSION")
@db_option
def session_delete(ref: str, db_path: str | None) -> None:
    """Delete a session (by id or name) with its artifacts, conversations and State."""
    with opened(db_path) as store:
        session_store = SessionStore(store)
        record = session_store.resolve(ref)
        if record is None:
            raise NotFoundError(f"session '{ref}' not found")
        session_store.delete(record["id"])
    if json_mode():
        echo_json({"deleted": record["id"]})
    else:
        click.echo(f"deleted session {record['id']}")


# ---- runs --------------------------------------------------------------------------------


@click.group("runs")
def runs() -> None:
    """List, inspect and cancel runs."""


@runs.command("list")
@click.option("--status", type=click.Choice(RUN_STATUSES))
@click.option("--limit", type=click.IntRange(min=0), default=20, show_default=True)
@db_option
@json_option
def runs_list(status: str | None, limit: int, db_path: str | None, as_json: bool) -> None:
    """List runs, newest first (runs whose process died are marked interrupted)."""
    with opened(db_path) as store:
        run_store = RunStore(store)
        run_store.mark_abandoned()
        records = run_store.list(status=status, limit=limit)
    if json_mode(as_json):
        echo_json(records)
        return
    if not records:
        click.echo("no runs")
    for r in records:
        click.echo(
            f"{r['id']}  {r['kind']:<8} {r['status']:<11} {when(r['created_at'])}  "
            f"{r['input_tokens'] + r['output_tokens']:>7} tok  ${r['cost_usd']:.4f}  "
            f"{r['script'] or ''}"
        )


@runs.command("show")
@click.argument("run_id")
@db_option
@json_option
def runs_show(run_id: str, db_path: str | None, as_json: bool) -> None:
    """Show a run and its checkpoints."""
    with opened(db_path) as store:
        run_store = RunStore(store)
        run_store.mark_abandoned()
        record = run_store.get(run_id)
        if record is None:
            raise NotFoundError(f"run '{run_id}' not found")
        checkpoints = CheckpointStore(store)
        record["checkpoints"] = checkpoints.list(run_id)
        record["resumable"] = checkpoints.load_definition(run_id) is not None
    if json_mode(as_json):
        echo_json(record)
        return
    for key in ("id", "kind", "script", "status", "error_kind", "error", "pid", "args_hash"):
        if record[key] is not None:
            click.echo(f"{key}: {record[key]}")
    click.echo(
        f"created: {when(record['created_at'])}  started: {when(record['started_at'])}  "
        f"ended: {when(record['ended_at'])}"
    )
    click.echo(
        f"tokens: {record['input_tokens']} in, {record['output_tokens']} out  "
        f"cost: ${record['cost_usd']:.4f}"
    )
    if record["cancel_requested"]:
        click.echo("cancel requested")
    click.echo(f"checkpoints: {len(record['checkpoints'])}")
    for cp in record["checkpoints"]:
        click.echo(f"  {cp['sequence']:>4}  {when(cp['created_at'])}  {cp['size']} B")


@runs.command("cancel")
@click.argument("run_id")
@db_option
def runs_cancel(run_id: str, db_path: str | None) -> None:
    """Cancel a pending run, or ask a running one to stop."""
    with opened(db_path) as store:
        record = RunStore(store).request_cancel(run_id)
    if json_mode():
        echo_json({"id": run_id, "status": record["status"], "cancel_requested": True})
    elif record["status"] == "cancelled":
        click.echo(f"cancelled {run_id}")
    else:
        click.echo(f"asked {run_id} to stop")


@runs.command("resume")
@click.argument("run_id")
@db_option
@json_option
def runs_resume(run_id: str, db_path: str | None, as_json: bool) -> None:
    """Continue a workflow run from its last checkpoint; completed steps are not run again.

    Works for runs started with `llmspell workflow run FILE`; tool steps run under the
    configured tools and permissions.
    """
    import asyncio
    import sys

    from llmspell.cli.cmd_tool import terminal_approver
    from llmspell.cli.cmd_workflow import show_result
    from llmspell.core.errors import EXIT_CODES
    from llmspell.tools.permissions import PermissionPolicy, deny_all
    from llmspell.workflows.resume import resume_run

    config = load_config(root_options().get("config_path"))
    approver = terminal_approver if sys.stdin.isatty() else deny_all
    policy = PermissionPolicy.from_config(config, approver=approver)
    with opened(db_path) as store:
        try:
            result = asyncio.run(resume_run(store, run_id, config=config, policy=policy))
        except KeyboardInterrupt:
            click.echo("cancelled", err=True)
            raise click.exceptions.Exit(EXIT_CODES["cancelled"]) from None
    show_result(result, as_json)


# ---- audit -------------------------------------------------------------------------------


@click.group("audit")
def audit() -> None:
    """Read and verify the audit log of agent and tool calls."""


@audit.command("list")
@click.option("--run", "run_id", default=None, help="Only records of this run.")
@click.option("--session", "session_id", default=None, help="Only records of this session.")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True)
@db_option
@json_option
def audit_list(
    run_id: str | None, session_id: str | None, limit: int, db_path: str | None, as_json: bool
) -> None:
    """List the newest audit records, oldest first."""
    with opened(db_path) as store:
        records = AuditLog(store).list(run_id=run_id, session_id=session_id, limit=limit)
    if json_mode(as_json):
        echo_json(records)
        return
    if not records:
        click.echo("no audit records")
    for r in records:
        duration = "-" if r["duration_ms"] is None else f"{r['duration_ms']:.0f}ms"
        click.echo(
            f"{r['seq']:>6}  {when(r['time'])}  {r['actor']}  {r['action']}  {r['outcome']}  "
            f"{duration}  {short(r['arguments'], 50)}"
        )


@audit.command("verify")
@db_option
def audit_verify(db_path: str | None) -> None:
    """Check the hash chain; exit status 1 when a record was changed or removed."""
    with opened(db_path) as store:
        ok, first_bad, reason = AuditLog(store).verify()
    if json_mode():
        echo_json({"ok": ok, "first_bad_seq": first_bad, "reason": reason})
    elif ok:
        click.echo(f"ok: {reason}")
    else:
        click.echo(f"audit log broken: {reason}", err=True)
    if not ok:
        click.get_current_context().exit(1)
