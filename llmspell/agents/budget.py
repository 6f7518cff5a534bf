"""Token and cost totals, and the per-run budget that stops a run when it is spent.

One ``Budget`` serves a run: every model call is charged to it (by the agent that made the call,
through ``for_agent``), which keeps totals per agent, for the run and for the session the run
belongs to (what earlier runs of the session spent, plus this run). When the run's totals pass
``max_cost_usd`` or ``max_tokens_total`` the charge that passed them raises ``BudgetExceeded``,
and so does every later charge or ``check``: the limits are the run's, never the session's.

Standard library only.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from llmspell.core.errors import BudgetExceeded, ValidationError

if TYPE_CHECKING:
    from llmspell.events import EventBus

LIMIT_KEYS = ("max_cost_usd", "max_tokens_total")
SESSION_KEYS = ("input_tokens", "output_tokens", "total_tokens", "cost_usd")
"""The keys of a session's totals as scripts and reports see them (``session_usage``)."""


@dataclass
class UsageTotals:
    """Sums over a set of model calls."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0

    def add(self, input_tokens: int, output_tokens: int, cost_usd: float) -> None:
        self.calls += 1
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        self.total_tokens += input_tokens + output_tokens
        self.cost_usd += cost_usd

    def plus(self, other: UsageTotals) -> UsageTotals:
        """The sums of both."""
        return UsageTotals(
            calls=self.calls + other.calls,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
        )

    def to_data(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_data(cls, data: Mapping[str, Any], where: str = "totals") -> UsageTotals:
        """Totals from ``to_data`` output (e.g. a session's totals saved by an earlier run)."""
        known = {"calls", "input_tokens", "output_tokens", "total_tokens", "cost_usd"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(f"{where}: unknown key '{unknown[0]}'")
        for key in known - {"cost_usd"}:
            _count(data.get(key, 0), f"{where}.{key}")
        return cls(
            calls=int(data.get("calls", 0)),
            input_tokens=int(data.get("input_tokens", 0)),
            output_tokens=int(data.get("output_tokens", 0)),
            total_tokens=int(data.get("total_tokens", 0)),
            cost_usd=_amount(data.get("cost_usd", 0.0), f"{where}.cost_usd"),
        )


class Budget:
    """The totals and limits of one run. ``max_cost_usd`` and ``max_tokens_total`` are
    ``None`` for no limit; ``session_totals`` carries what earlier runs of the run's session
    spent (``None``: the run has no session; ``set_session`` changes it during the run)."""

    def __init__(
        self,
        max_cost_usd: float | None = None,
        max_tokens_total: int | None = None,
        *,
        session_totals: UsageTotals | Mapping[str, Any] | None = None,
        events: EventBus | None = None,
    ) -> None:
        self.max_cost_usd = None if max_cost_usd is None else _amount(max_cost_usd, "max_cost_usd")
        self.max_tokens_total = (
            None if max_tokens_total is None else _count(max_tokens_total, "max_tokens_total")
        )
        self.events = events
        self.run = UsageTotals()
        self.agents: dict[str, UsageTotals] = {}
        self._earlier = _totals(session_totals)
        self._lock = threading.Lock()

    @classmethod
    def from_data(cls, limits: Mapping[str, Any] | None, **options: Any) -> Budget:
        """A budget from a table such as ``{max_cost_usd = 0.5, max_tokens_total = 20000}``
        (other keys are refused); ``options`` are the keyword arguments of ``Budget``."""
        limits = limits or {}
        unknown = sorted(set(limits) - set(LIMIT_KEYS))
        if unknown:
            raise ValidationError(
                f"budget: unknown key '{unknown[0]}' (known keys: {', '.join(LIMIT_KEYS)})"
            )
        return cls(limits.get("max_cost_usd"), limits.get("max_tokens_total"), **options)

    def set_session(self, earlier: UsageTotals | Mapping[str, Any] | None) -> None:
        """The run is now in a session whose earlier runs spent ``earlier`` (``None``: in no
        session). The session's totals become those plus everything this run spent."""
        totals = _totals(earlier)
        with self._lock:
            self._earlier = totals

    @property
    def session(self) -> UsageTotals | None:
        """The session's totals (earlier runs plus this one); ``None`` without a session."""
        with self._lock:
            return None if self._earlier is None else self._earlier.plus(self.run)

    def session_usage(self) -> dict[str, Any] | None:
        """``{input_tokens, output_tokens, total_tokens, cost_usd}`` of the session (earlier
        runs plus this one), as ``agent:get_metrics().session`` shows them; ``None`` without a
        session."""
        session = self.session
        if session is None:
            return None
        data = session.to_data()
        data["cost_usd"] = round(data["cost_usd"], 6)
        return {key: data[key] for key in SESSION_KEYS}

    def charge(
        self,
        input_tokens: int,
        output_tokens: int,
        cost_usd: float | None,
        *,
        agent: str | None = None,
    ) -> None:
        """Add one model call to the totals; raise ``BudgetExceeded`` when the run's totals
        are now over a limit. The call is counted either way: it has been paid for."""
        _count(input_tokens, "input_tokens")
        _count(output_tokens, "output_tokens")
        cost = 0.0 if cost_usd is None else _amount(cost_usd, "cost_usd")
        with self._lock:
            self.run.add(input_tokens, output_tokens, cost)
            if agent is not None:
                self.agents.setdefault(agent, UsageTotals()).add(input_tokens, output_tokens, cost)
        self.check(agent)

    def for_agent(self, name: str) -> AgentBudget:
        """The budget as one agent sees it: its charges are booked under ``name``."""
        return AgentBudget(self, name)

    def exceeded(self) -> str | None:
        """Why the run is over budget, or ``None`` while it is within its limits."""
        if self.max_cost_usd is not None and self.run.cost_usd > self.max_cost_usd:
            return (
                f"run cost ${self.run.cost_usd:.6f} is over max_cost_usd ${self.max_cost_usd:.6f}"
            )
        if self.max_tokens_total is not None and self.run.total_tokens > self.max_tokens_total:
            return (
                f"run used {self.run.total_tokens} tokens, over max_tokens_total "
                f"{self.max_tokens_total}"
            )
        return None

    def check(self, agent: str | None = None) -> None:
        """Raise ``BudgetExceeded`` if the run is over budget (call before spending more)."""
        reason = self.exceeded()
        if reason is None:
            return
        where = f" (charged by agent '{agent}')" if agent else ""
        if self.events is not None:
            self.events.publish(
                "budget.exceeded", {"reason": reason, "agent": agent, "run": self.run.to_data()}
            )
        raise BudgetExceeded(f"budget exceeded: {reason}{where}; the run stops here")

    def remaining(self) -> dict[str, Any]:
        """``{cost_usd, tokens}`` left before a limit trips (``None`` for no limit)."""
        return {
            "cost_usd": None
            if self.max_cost_usd is None
            else max(0.0, self.max_cost_usd - self.run.cost_usd),
            "tokens": None
            if self.max_tokens_total is None
            else max(0, self.max_tokens_total - self.run.total_tokens),
        }

    def agent_totals(self, agent: str) -> dict[str, Any]:
        """The totals of one agent (zeros when it has not been charged)."""
        with self._lock:
            return (self.agents.get(agent) or UsageTotals()).to_data()

    def totals(self) -> dict[str, Any]:
        """``{run, session, agents={name=...}, limits, remaining}`` as plain data; ``session``
        is ``None`` when the run has no session."""
        session = self.session
        with self._lock:
            return {
                "run": self.run.to_data(),
                "session": None if session is None else session.to_data(),
                "agents": {name: t.to_data() for name, t in self.agents.items()},
                "limits": {
                    "max_cost_usd": self.max_cost_usd,
                    "max_tokens_total": self.max_tokens_total,
                },
                "remaining": self.remaining(),
            }


class AgentBudget:
    """A ``Budget`` bound to one agent name: what an agent receives as its ``budget``."""

    def __init__(self, budget: Budget, agent: str) -> None:
        self.budget = budget
        self.agent = agent

    def charge(self, input_tokens: int, output_tokens: int, cost_usd: float | None) -> None:
        self.budget.charge(input_tokens, output_tokens, cost_usd, agent=self.agent)

    def check(self) -> None:
        self.budget.check(self.agent)

    def totals(self) -> dict[str, Any]:
        return self.budget.agent_totals(self.agent)


def _totals(value: UsageTotals | Mapping[str, Any] | None) -> UsageTotals | None:
    if isinstance(value, Mapping):
        return UsageTotals.from_data(value, "session_totals")
    return None if value is None else replace(value)


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def _amount(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValidationError(f"{name} must be a non-negative number, got {value!r}")
    return float(value)
