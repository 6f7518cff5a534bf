"""``Agent``: build, find and call agents from scripts (the domain is ``llmspell.agents``).

The agents of a run live with it: their providers are built on a child of the host's provider
registry and closed when the run ends, as are streams left open. An agent's tool calls go
through the run's tool registry and context (``bridge.run.tools``), exactly like
``Tool.execute``; image paths are read under the run's file permissions; in a session, the
conversation is kept in the session. Scripts hold an agent as an instance carrying a handle
number; other adapters run agents through ``bridge.run.agents.execute(name_or_handle, input)``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from llmspell.core.errors import ConfigError, ValidationError
from llmspell.lua.globals.agent_live import LiveText
from llmspell.lua.globals.agent_streams import RunStreams

if TYPE_CHECKING:
    from llmspell.agents.agent import Agent
    from llmspell.agents.config import AgentConfig
    from llmspell.agents.registry import AgentRegistry
    from llmspell.lua.bridge import Bridge
    from llmspell.providers.registry import ProviderRegistry

STATE_KEY = "state"
"""The key ``agent:save_state()`` uses in the agent's State scope ``agent:<name>``."""
_WRAP_KEYS = {"tool_name": "tool_name", "toolName": "tool_name", "name": "tool_name"}


class RunAgents:
    """The agents of one run, by handle and by name."""

    def __init__(self, bridge: Bridge) -> None:
        self._run: Any = bridge.run  # type: ignore[attr-defined]
        self._services = bridge.services
        self._providers: ProviderRegistry | None = None
        self._registry: AgentRegistry | None = None
        self._by_handle: dict[int, Agent] = {}
        self._handles: dict[int, int] = {}
        self.streams = RunStreams(self._run, compact_chunk)
        bridge.scheduler.finalizers.append(self.close)

    @property
    def providers(self) -> ProviderRegistry:
        if self._providers is None:
            self._providers = self._services.providers.child()
        return self._providers

    @property
    def registry(self) -> AgentRegistry:
        if self._registry is None:
            from llmspell.agents.registry import AgentRegistry

            self._registry = AgentRegistry()
        return self._registry

    async def close(self) -> None:
        """Close open streams, the providers agents own, then the run's providers."""
        await self.streams.close_all()
        for agent in self._by_handle.values():
            await agent.aclose()
        if self._providers is not None:
            await self._providers.aclose()

    # --- building and finding -----------------------------------------------------------

    def create(self, spec: Any) -> dict[str, Any]:
        """Build and register an agent (``Agent.create``, the builder's ``build``)."""
        return self._handle(self._build(spec))

    def register(self, spec: Any) -> str:
        return self._build(spec).name

    def _build(self, spec: Any) -> Agent:
        from llmspell.agents.config import AgentConfig
        from llmspell.agents.factory import build_agent

        config = AgentConfig.from_table(spec)
        run_context = self._run.context
        try:
            agent = build_agent(
                config,
                self.providers,
                **self._collaborators(),
                **run_context.agent_collaborators(config.name),
            )
        except ConfigError as exc:
            if self._names_provider(config):
                raise
            raise ValidationError(
                f"agent '{config.name}': no model can be resolved: {exc}"
            ) from None
        agent.provider = run_context.wrap_provider(agent.provider)
        agent.use_context(self._context_manager(config, agent))
        self.registry.register(agent)
        return agent

    def _context_manager(self, config: AgentConfig, agent: Agent) -> Any:
        from llmspell.agents.context import context_for

        conversations = None
        if self._run.session_id is not None:
            from llmspell.state.conversations import ConversationStore

            conversations = ConversationStore(self._services.store)
        collaborators = self._run.context.agent_collaborators(config.name)
        return context_for(
            config.context,
            agent.provider,
            agent.model,
            agent_name=config.name,
            events=collaborators.get("events"),
            conversations=conversations,
            session_id=self._run.session_id,
            budget=collaborators.get("budget"),
        )

    def _names_provider(self, config: AgentConfig) -> bool:
        """Whether the config names its provider (so a ConfigError is about that provider)."""
        if config.provider is not None:
            return True
        model = config.model or ""
        return "/" in model and self.providers.known(model.split("/", 1)[0])

    def _collaborators(self) -> dict[str, Any]:
        from llmspell.agents.tool_invoker import RegistryToolInvoker

        tools = self._run.tools
        collaborators: dict[str, Any] = {
            "tools": RegistryToolInvoker(
                tools.registry, lambda: dataclasses.replace(tools.context)
            ),
            "read_file": self._read_file,
        }
        if self._run.session_id is not None:
            from llmspell.agents.session_memory import SessionMemory
            from llmspell.state.conversations import ConversationStore

            store = ConversationStore(self._services.store)
            collaborators["conversation_store"] = SessionMemory(store, self._run.session_id)
        return collaborators

    def _read_file(self, path: str) -> bytes:
        """Image files of agent inputs, read under the run's file permissions."""
        return bytes(self._run.tools.context.check_read(path).read_bytes())

    def _handle(self, agent: Agent) -> dict[str, Any]:
        handle = self._handles.get(id(agent))
        if handle is None:
            handle = len(self._by_handle) + 1
            self._by_handle[handle] = agent
            self._handles[id(agent)] = handle
        return {"id": handle, "name": agent.name}

    def resolve(self, ref: Any, where: str = "agent") -> Agent:
        """The agent of a handle, a name, or an instance table carrying its handle."""
        if isinstance(ref, dict):
            ref = ref.get("id")
        if isinstance(ref, int) and not isinstance(ref, bool):
            agent = self._by_handle.get(ref)
            if agent is None:
                raise ValidationError(f"{where}: no agent has handle {ref} in this run")
            return agent
        if isinstance(ref, str):
            return self.registry.get(ref)
        raise ValidationError(f"{where}: expected an agent or an agent name, got {_tname(ref)}")

    def get(self, name: Any) -> dict[str, Any] | None:
        agent = self.registry.find(_name(name, "Agent.get"))
        return None if agent is None else self._handle(agent)

    def list_agents(self) -> list[dict[str, Any]]:
        return self.registry.list()

    def list_instances(self) -> list[str]:
        return self.registry.list_instances()

    def get_info(self, name: Any) -> dict[str, Any] | None:
        agent = self.registry.find(_name(name, "Agent.get_info"))
        return None if agent is None else agent.info()

    def wrap_as_tool(self, ref: Any, options: Any = None) -> str:
        """Register the agent as a tool of this run (for other agents and ``Tool.execute``)."""
        from llmspell.agents.as_tool import wrap_as_tool

        agent = self.resolve(ref, "Agent.wrap_as_tool")
        fields = _wrap_options(options)
        tool = wrap_as_tool(agent, fields.get("tool_name"), fields.get("description"))
        self._run.tools.registry.register(tool, source="agent", replace=True)
        return tool.name

    # --- calling ------------------------------------------------------------------------

    async def execute(self, ref: Any, input: Any = None) -> dict[str, Any]:
        """Run an agent on ``input``; with ``--stream`` its text is shown as it arrives."""
        agent = self.resolve(ref, "agent:execute")
        if input is None:
            raise ValidationError("agent:execute: input must be a string or a table, got nil")
        if not self._run.stream_to_output:
            return await agent.execute(input)
        live = LiveText(self._run)
        live.start()
        try:
            return await agent.execute(input, live.chunk)
        finally:
            live.finish()

    def open_stream(self, ref: Any, input: Any = None) -> int:
        return self.streams.open(self.resolve(ref, "agent:stream_execute"), input)

    async def close_stream(self, stream_id: int) -> None:
        await self.streams.close(stream_id)

    def release_stream(self, stream_id: int) -> None:
        self.streams.release(stream_id)

    def stream_output(self, stream_id: int) -> dict[str, Any]:
        return self.streams.output(stream_id)

    async def invoke_tool(self, ref: Any, name: Any, params: Any = None) -> dict[str, Any]:
        agent = self.resolve(ref, "agent:invokeTool")
        if params is not None and not isinstance(params, dict):
            raise ValidationError(f"agent:invokeTool: params must be a table, got {_tname(params)}")
        return await agent.invoke_tool(_name(name, "agent:invokeTool"), params)

    async def discover_tools(self, ref: Any) -> list[dict[str, Any]]:
        return await self.resolve(ref).discover_tools()

    async def summarize(self, ref: Any) -> list[dict[str, Any]]:
        return await self.resolve(ref).summarize()

    def has_tool(self, ref: Any, name: Any) -> bool:
        return self.resolve(ref).has_tool(_name(name, "agent:has_tool"))

    def get_metrics(self, ref: Any) -> dict[str, Any]:
        """The agent's counters and, when the run has a session, ``session``: the tokens and
        cost of the session's runs, this one included (``RunContext.session_usage``)."""
        metrics = self.resolve(ref, "agent:get_metrics").get_metrics()
        session = self._run.context.session_usage()
        if session is not None:
            metrics["session"] = session
        return metrics

    def save_state(self, ref: Any, key: Any = None) -> bool:
        """Keep ``get_state()`` in the State store (scope ``agent:<name>``, key ``state``)."""
        agent = self.resolve(ref)
        self._services.state.save(_scope(agent), _key(key), agent.get_state())
        return True

    def load_state(self, ref: Any, source: Any = None) -> bool:
        """Restore history and metrics from a ``get_state()`` table, or from what
        ``save_state`` stored (false when nothing was stored)."""
        agent = self.resolve(ref)
        state = source
        if not isinstance(source, dict):
            state = self._services.state.load(_scope(agent), _key(source))
            if state is None:
                return False
        agent.load_state(state)
        return True

    def call(self, method: str) -> Any:
        """A Lua-facing function ``fn(handle, ...)`` calling ``Agent.<method>(...)``."""

        def bound(ref: Any, *args: Any) -> Any:
            return getattr(self.resolve(ref), method)(*args)

        return bound


def compact_chunk(chunk: dict[str, Any]) -> Any:
    """A chunk as it crosses to Lua: a text chunk (nearly every chunk) as the list ``{stream_id,
    chunk_index, text, timestamp, metadata}``, which ``agent.lua`` expands into the chunk table
    (a third of the conversion work); any other chunk as it is."""
    text = chunk.get("text")
    if not isinstance(text, str):
        return chunk
    return [
        chunk["stream_id"],
        chunk["chunk_index"],
        text,
        chunk["timestamp"],
        chunk["metadata"],
    ]


def _scope(agent: Agent) -> str:
    from llmspell.state.state import make_scope

    return make_scope("agent", agent.name)


def _key(key: Any) -> str:
    if key is None:
        return STATE_KEY
    if not isinstance(key, str) or not key:
        raise ValidationError(f"agent state key must be a non-empty string, got {key!r}")
    return key


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{where}: expected a name (a non-empty string), got {_tname(value)}")
    return value


def _wrap_options(options: Any) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise ValidationError(
            f"Agent.wrap_as_tool: options must be a table {{tool_name, description}}, "
            f"got {_tname(options)}"
        )
    fields: dict[str, Any] = {}
    for key, value in options.items():
        field = "description" if key == "description" else _WRAP_KEYS.get(key)
        if field is None:
            raise ValidationError(
                f"Agent.wrap_as_tool: unknown option '{key}' (known: tool_name, description)"
            )
        if not isinstance(value, str):
            raise ValidationError(f"Agent.wrap_as_tool: '{key}' must be a string")
        fields[field] = value
    return fields


def _tname(value: Any) -> str:
    return "nil" if value is None else type(value).__name__


SIMPLE_METHODS = (
    "supports_streaming",
    "supports_multimodal",
    "supported_media_types",
    "get_config",
    "get_history",
    "clear_history",
    "get_state",
    "info",
)
"""Agent methods a script calls as they are (``agent:get_history()`` ...)."""


def install(bridge: Bridge) -> None:
    agents = RunAgents(bridge)
    bridge.run.agents = agents  # type: ignore[attr-defined]
    sync, async_ = bridge.sync, bridge.async_
    fns = {
        "create": sync(agents.create, "Agent.create"),
        "register": sync(agents.register, "Agent.register"),
        "get": sync(agents.get, "Agent.get"),
        "list": sync(agents.list_agents, "Agent.list"),
        "list_instances": sync(agents.list_instances, "Agent.list_instances"),
        "get_info": sync(agents.get_info, "Agent.get_info"),
        "wrap_as_tool": sync(agents.wrap_as_tool, "Agent.wrap_as_tool"),
        "execute": async_(agents.execute, "agent:execute"),
        "open_stream": sync(agents.open_stream, "agent:stream_execute"),
        "next_chunk": async_(agents.streams.next, "agent:stream_execute"),
        "close_stream": async_(agents.close_stream, "agent:stream_execute"),
        "release_stream": sync(agents.release_stream, "agent:stream_execute"),
        "stream_output": sync(agents.stream_output, "agent:stream_execute"),
        "invoke_tool": async_(agents.invoke_tool, "agent:invokeTool"),
        "discover_tools": async_(agents.discover_tools, "agent:discover_tools"),
        "summarize": async_(agents.summarize, "agent:summarize"),
        "has_tool": sync(agents.has_tool, "agent:has_tool"),
        "get_metrics": sync(agents.get_metrics, "agent:get_metrics"),
        "save_state": sync(agents.save_state, "agent:save_state"),
        "load_state": sync(agents.load_state, "agent:load_state"),
    }
    for method in SIMPLE_METHODS:
        fns[method] = sync(agents.call(method), f"agent:{method}")
    bridge.define_global("Agent", fns, lua_file="agent.lua")
