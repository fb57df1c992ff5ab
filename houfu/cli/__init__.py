"""The command line (click): one call into the library per command. The top room."""

import gc

# The command line's modules load without the cyclic collector (issue 25: a cold `houfu check` is mostly imports).
# While pydantic's schemas and the rule models were built, the collector ran again and again over the growing heap,
# 26-34 ms of a 0.27 s check. The houfu program then freezes what the imports made (``run``), with the 300 or so
# unreachable objects they leave (47 KB, none with a finalizer). A caller who turned the collector off keeps it off.
_collecting = gc.isenabled()
gc.disable()
try:
    from .commands import main, run
finally:
    if _collecting:
        gc.enable()

__all__ = ["main", "run"]
