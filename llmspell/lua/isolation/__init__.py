"""Process isolation: the Lua VM of a run in a worker process, the host's side in the parent.

``protocol`` frames and encodes the messages (plain data only), ``worker`` is the worker's
program, ``parent`` the host's side of a run (``ProcessRun``) and ``pool`` keeps workers warm.
"""
