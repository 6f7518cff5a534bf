"""The collaborators of one run: its hooks, events, audit trail, budget and response cache.

Every script run has a ``RunContext`` (``ScriptRun.context``); the Lua adapters wire it into the
domain objects they build, so that every tool, agent and workflow call of the run is observed
the same way:

- ``hooks``: a child of the host's ``HookRegistry`` (``Host.register_hook``): the host's Python
  hooks fire in every run, and the script's own (``Hook.register``) live and die with the run;
- ``events``: a child of the host's ``EventBus``: the run's subscribers see the run's events,
  the host's subscribers see every run's; events carry the run id as correlation id;
- ``audit``: the audit log, bound to the run id and the run's current session;
- ``budget``: the run's ``max_cost_usd`` / ``max_tokens_total`` ([runtime], the Host, the run),
  and its totals: per agent, for the run, and for its session (``session_usage``);
- ``wrap_provider``: the response cache around a provider when caching is on.

Everything but the budget is built on first use: a script that calls no tool, agent or
workflow pays for none of it (this module is imported by every run).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from llmspell.agents.budget import LIMIT_KEYS, SESSION_KEYS, Budget
from llmspell.core.errors import LlmspellError, ValidationError

if TYPE_CHECKING:
    from llmspell.core.config import RuntimeConfig
    from llmspell.events import EventBus, HookRegistry
    from llmspell.providers.base import Provider
    from llmspell.services import Services
    from llmspell.state.run_audit import AuditedEvents, RunAudit
    from llmspell.tools.base import ToolContext

_REPLACEABLE = {"AfterWorkflowStage": "output", "AfterWorkflowComplete": "result"}
"""Workflow points where a hook's replacement stands in for a value: the key it replaces."""


def budget_limits(runtime: RuntimeConfig, *overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """``{max_cost_usd, max_tokens_total}``: ``[runtime]``'s, then each override's (a ``None``
    value keeps the earlier one)."""
    limits: dict[str, Any] = {key: getattr(runtime, key) for key in LIMIT_KEYS}
    for override in overrides:
        for key, value in (override or {}).items():
            if key not in LIMIT_KEYS:
                raise ValidationError(
                    f"budget: unknown limit '{key}' (known: {', '.join(LIMIT_KEYS)})"
                )
            if value is not None:
                limits[key] = value
    return limits


class RunContext:
    """Hooks, events, audit trail, budget and cache of the run ``run_id`` on ``services``.

    ``session`` returns the run's current session id (read at each audit record); ``budget``
    overrides the ``[runtime]`` limits; ``cache`` overrides ``[storage] cache``; ``warn``
    receives warnings meant for the run's stderr (an audit log that cannot be written).
    """

    def __init__(
        self,
        services: Services,
        run_id: str,
        *,
        session: Callable[[], str | None] | None = None,
        budget: Mapping[str, Any] | None = None,
        cache: bool | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.services = services
        self.run_id = run_id
        self._session = session
        self._warn = warn
        self.budget = Budget.from_data(budget_limits(services.config.runtime, budget))
        self.cache_enabled = services.config.storage.cache if cache is None else cache
        self._budget_session: str | None = None
        """The session whose earlier runs ``budget`` carries (``session_usage``)."""

    @property
    def session_id(self) -> str | None:
        """The run's current session: what its audit records and its run record say."""
        return None if self._session is None else self._session()

    @cached_property
    def events(self) -> EventBus:
        bus = self.services.events.child(correlation_id=self.run_id)
        self.budget.events = bus
        return bus

    @cached_property
    def hooks(self) -> HookRegistry:
        return self.services.hooks.child(events=self.events, correlation_id=self.run_id)

    @cached_property
    def audit(self) -> RunAudit:
        from llmspell.state.run_audit import RunAudit

        return RunAudit(
            lambda: self.services.store, self.run_id, session=self._session, warn=self._warn
        )

    def flush(self) -> None:
        """Write what the run still holds back (its last audit records); called when it ends."""
        audit: RunAudit | None = self.__dict__.get("audit")
        if audit is not None:
            audit.flush()

    @cached_property
    def agent_events(self) -> AuditedEvents:
        """The event sink of the run's agents: the run's bus, plus an audit record per call."""
        from llmspell.state.run_audit import AuditedEvents

        return AuditedEvents(self.events, self.audit)

    # -- wiring ------------------------------------------------------------------------------

    def observe_tools(self, ctx: ToolContext) -> ToolContext:
        """``ctx`` with the run's hooks, events and audit trail: every tool call made with it
        fires the tool hooks, publishes ``tool.execution.*`` and is audited."""
        ctx.hooks = self.hooks
        ctx.events = self.events
        ctx.audit = self.audit
        return ctx

    def agent_collaborators(self, agent_name: str) -> dict[str, Any]:
        """``{events, hooks, budget}`` for ``build_agent(..., **collaborators)``: the agent
        publishes ``agent.*`` events (and is audited), fires the agent hooks and is charged
        to the run's budget under its name."""
        return {
            "events": self.agent_events,
            "hooks": self.hooks,
            "budget": self.budget.for_agent(agent_name),
        }

    def wrap_provider(self, provider: Provider) -> Provider:
        """``provider`` behind the response cache when caching is on, else itself."""
        if not self.cache_enabled:
            return provider
        from llmspell.providers.cache import CachingProvider

        return CachingProvider(provider, self.services.response_cache, events=self.events)

    # -- workflows ---------------------------------------------------------------------------

    async def workflow_hooks(self, point: str, data: dict[str, Any]) -> dict[str, Any]:
        """Fire a workflow point (``StepServices.run_hooks``): the data as the hooks left it.

        A hook may go on, change the data or cancel (``Cancelled``); at ``AfterWorkflowStage``
        and ``AfterWorkflowComplete`` it may also replace the step's output or the result. A
        skip or a retry elsewhere is refused with a ``ValidationError`` naming the hook."""
        from llmspell.events import HookRetry, HookSkip

        try:
            return await self.hooks.fire(point, data)
        except HookSkip as skip:
            key = _REPLACEABLE.get(skip.point)
            if key is None:
                raise ValidationError(_unsupported(skip.point, skip.hook, "skip")) from None
            return {**data, key: skip.result}
        except HookRetry as retry:
            raise ValidationError(_unsupported(retry.point, retry.hook, "retry")) from None

    def emit(self, type: str, data: Mapping[str, Any] | None = None) -> None:
        """Publish an event of the run (``workflow.step.completed`` ...)."""
        self.events.publish(type, data)

    # -- totals ------------------------------------------------------------------------------

    def usage(self) -> dict[str, Any]:
        """``{input_tokens, output_tokens, cost_usd}`` the run's model calls used so far, and
        ``session`` (``session_usage``) when the run has a session."""
        run = self.budget.run
        usage: dict[str, Any] = {
            "input_tokens": run.input_tokens,
            "output_tokens": run.output_tokens,
            "cost_usd": round(run.cost_usd, 6),
        }
        session = self.session_usage()
        if session is not None:
            usage["session"] = session
        return usage

    def session_usage(self) -> dict[str, Any] | None:
        """``{input_tokens, output_tokens, total_tokens, cost_usd}`` of the run's current
        session: what the session's other runs recorded, plus this run; ``None`` without a
        session (or when the store cannot be read: a warning says so).

        The other runs are read from the store when the session is first asked about, and
        again when the script has moved to another session since."""
        session_id = self.session_id
        if session_id != self._budget_session:
            self._budget_session = session_id
            earlier = None if session_id is None else self._other_runs(session_id)
            self.budget.set_session(earlier)
        return self.budget.session_usage()

    def _other_runs(self, session_id: str) -> dict[str, Any] | None:
        try:
            totals = self.services.runs.session_totals(session_id, exclude_run=self.run_id)
        except LlmspellError as exc:
            if self._warn is not None:
                self._warn(f"warning: totals of session '{session_id}' not available: {exc}\n")
            return None
        return {key: totals[key] for key in SESSION_KEYS}


def _unsupported(point: str, hook: str, what: str) -> str:
    replaceable = " or ".join(_REPLACEABLE)
    return (
        f"{point}: hook '{hook}' asked to {what}; workflow points accept 'continue', "
        f"'modified' and a cancel reason ('replace' too at {replaceable})"
    )
