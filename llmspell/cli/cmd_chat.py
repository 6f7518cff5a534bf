"""``llmspell chat``: an interactive chat with a model, its answers streamed as they are written.

Lines starting with ``/`` are commands (``/help`` lists them). Ctrl+C stops the answer being
written; at the prompt, Ctrl+C or Ctrl+D (end of input) leaves.
"""

from __future__ import annotations

import asyncio
import sys
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

import click

from llmspell.core.errors import LlmspellError

if TYPE_CHECKING:
    from llmspell.agents.chat import ChatSession
    from llmspell.cli.spinner import WaitSpinner

HELP = """Commands:
  /exit            leave (also /quit, Ctrl+D)
  /clear           forget the conversation
  /model [NAME]    show the model, or answer with NAME ("provider/model") from now on
  /history         show the conversation
  /save NAME       save the conversation (model, system prompt, messages) as NAME
  /load [NAME]     continue the conversation saved as NAME (without NAME: list them)
  /help            this list"""


@click.command()
@click.option("--model", "-m", help='Model to chat with ("provider/model"); default: as scripts.')
@click.option("--system", "-s", "system_prompt", help="System prompt.")
@click.option("--session", help="Keep the conversation in this session (id or name; new: created).")
@click.pass_context
def chat(
    ctx: click.Context, model: str | None, system_prompt: str | None, session: str | None
) -> None:
    """Chat with a model; answers stream as they are written. Type /help for commands."""
    from llmspell.agents.chat import ChatSession
    from llmspell.cli.running import load_host

    host = load_host(ctx.find_root().obj or {})
    services = host.services
    memory = None
    if session is not None:
        from llmspell.agents.session_memory import SessionMemory
        from llmspell.state.conversations import ConversationStore

        record = services.sessions.get(session) or services.sessions.get_or_create(session)
        memory = SessionMemory(ConversationStore(services.store), record["id"])
    with asyncio.Runner() as runner:
        try:
            session_chat = ChatSession(
                services.providers.child(),
                services.state,
                model=model,
                system_prompt=system_prompt,
                memory=memory,
            )
        except LlmspellError as exc:
            raise click.ClickException(exc.lua_message()) from None
        ChatLoop(session_chat, runner).run()


class ChatLoop:
    """Reads lines, runs commands, streams replies to stdout."""

    def __init__(self, chat: ChatSession, runner: asyncio.Runner) -> None:
        self.chat = chat
        self.runner = runner
        self.interactive = sys.stdin.isatty()
        self.spinner = _spinner()

    def run(self) -> None:
        if self.interactive:
            _enable_line_editing()
            click.echo(f"Chatting with {self.chat.model}. /help for commands, /exit to leave.")
        try:
            while self._turn():
                pass
        finally:
            self.runner.run(self.chat.aclose())

    def _turn(self) -> bool:
        """One line of input; false when the chat is over."""
        try:
            line = input("you> " if self.interactive else "")
        except (EOFError, KeyboardInterrupt):
            if self.interactive:
                click.echo()
            return False
        text = line.strip()
        if not text:
            return True
        if text.startswith("/"):
            return self._command(text)
        self._reply(text)
        return True

    def _reply(self, text: str) -> None:
        try:
            self.runner.run(self._stream(text))
        except KeyboardInterrupt:
            click.echo("\n(stopped)", err=True)
        except LlmspellError as exc:
            click.echo(f"error: {exc.lua_message()}", err=True)
        finally:
            if self.spinner is not None:
                self.spinner.close()

    async def _stream(self, text: str) -> None:
        out = sys.stdout
        ends_line = True
        if self.spinner is not None:
            self.spinner.waiting(True)
        async with aclosing(self.chat.stream(text)) as chunks:
            async for chunk in chunks:
                piece = chunk.get("text")
                if not piece:
                    continue
                if self.spinner is not None:
                    self.spinner.waiting(False)
                out.write(piece)
                out.flush()
                ends_line = piece.endswith("\n")
        if not ends_line:
            out.write("\n")
            out.flush()

    def _command(self, text: str) -> bool:
        name, _, arg = text.partition(" ")
        arg = arg.strip()
        try:
            return self._run_command(name, arg)
        except LlmspellError as exc:
            click.echo(f"error: {exc.lua_message()}", err=True)
            return True

    def _run_command(self, name: str, arg: str) -> bool:
        if name in ("/exit", "/quit"):
            return False
        if name == "/help":
            click.echo(HELP)
        elif name == "/clear":
            self.chat.clear()
            click.echo("(conversation cleared)")
        elif name == "/model":
            if arg:
                self.runner.run(self.chat.set_model(arg))
            click.echo(f"(model: {self.chat.model})")
        elif name == "/history":
            for message in self.chat.history():
                click.echo(f"{message.get('role')}: {_message_text(message)}")
        elif name == "/save":
            if arg:
                self.chat.save(arg)
                click.echo(f"(saved as '{arg}')")
            else:
                click.echo("/save needs a name: /save NAME", err=True)
        elif name == "/load":
            self._load(arg)
        else:
            click.echo(f"unknown command {name} (/help lists them)", err=True)
        return True

    def _load(self, name: str) -> None:
        if not name:
            saved = self.chat.saved()
            click.echo("saved: " + (", ".join(saved) if saved else "(none)"))
        elif self.runner.run(self.chat.load(name)):
            count = len(self.chat.history())
            click.echo(f"(loaded '{name}': {count} messages, model {self.chat.model})")
        else:
            click.echo(f"nothing is saved as '{name}'", err=True)


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        text = content
    elif isinstance(content, list):
        text = " ".join(str(p.get("text", "[image]")) for p in content if isinstance(p, dict))
    else:
        text = ""
    calls = message.get("tool_calls") or []
    if calls:
        text += " [tools: " + ", ".join(str(c.get("name")) for c in calls) + "]"
    return text


def _spinner() -> WaitSpinner | None:
    if not sys.stdout.isatty():
        return None
    from llmspell.cli.spinner import WaitSpinner

    return WaitSpinner(sys.stderr)


def _enable_line_editing() -> None:
    """Arrow keys and history at the prompt, where the platform has readline."""
    try:
        import readline  # noqa: F401
    except ImportError:
        return
