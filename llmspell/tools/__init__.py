"""Tools: the interface, the registry, permissions, Python tools, plugins, MCP and built-ins.

Nothing is imported here, so importing a submodule stays cheap.
"""
