"""Who holds a lease: the name a process signs with, and whether a holder's process may still be running.

One outbox worker and one scheduler act per database; each takes a named lease row in the store
(`tx.jobs.take_lease`), which another process can take over once the holder is known to be gone.
"""

import os
import socket


def holder_name(*parts: object) -> str:
    """ "host:pid[:part…]": names this process (and, with `parts`, one object in it) as a lease holder."""
    return ":".join([socket.gethostname(), str(os.getpid()), *map(str, parts)])


def holder_alive(holder: str) -> bool:
    """Whether the process named in a lease holder ("host:pid:…") may still be running.

    Only a process on this host can be checked; any other holder counts as alive until its lease runs out.
    """
    host, _, rest = holder.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
