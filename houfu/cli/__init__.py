"""The command line (click): one call into the library per command. The top room."""

import gc

# The command line's modules load without the cyclic collector, and what they made is then frozen out of its reach
# (issue 25: a cold `houfu check` is mostly imports). While pydantic's schemas and the rule models were built, the
# collector ran again and again over the growing heap, and once more over all of it at exit: 40-50 ms of a 0.27 s
# check. What an import makes lives as long as the process (the imports leave about 500 unreachable objects, kept
# with it), so `gc.freeze` moves it aside, as the gc module's documentation advises before a fork; what a command
# makes afterwards is collected as usual. A caller who turned the collector off keeps it off.
_collecting = gc.isenabled()
gc.disable()
try:
    from .commands import main, run
finally:
    if _collecting:
        gc.freeze()
        gc.enable()

__all__ = ["main", "run"]
