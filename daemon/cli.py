"""The `complaintsd` command's entry point (the console script and `python -m daemon.cli`): for
`complaintsd run`, the sender process is started before anything else is imported; then the command
line (shell.py) runs.

The daemon and its sender each spend about 0.6 s importing (SQLAlchemy, SQLModel, Jinja, Babel…).
The sender used to be started only once the daemon had made its own imports, loaded the configuration
and taken the register's lease, so the two import phases ran one after the other on a machine with
two cores, and the first letter waited for both. Started first, the sender imports beside the daemon,
then waits for the configuration, which the daemon hands it once it holds the register
(runners/service.py). One it never hands over (a bad configuration, `--help`, a standby stopped before
taking over) is killed and reaped before the command returns: no process left, nothing printed.

Only the standard library is imported here, so that nothing delays the start of the child.
"""

from __future__ import annotations

import gc
import os
import sys

from daemon.runners.sender_process import SenderProcess

# Whatever umask it is started with, complaintsd creates nothing others can read: the register, the
# attachments and the locks hold customers' personal data (files 0600, directories 0700). Set before
# the sender starts, which inherits it.
PRIVATE_UMASK = 0o077


def main(argv: list[str] | None = None) -> int:
    """The command line's status; the sender is started ahead only for a program's own `run` (argv
    None), not for a caller in the same process (a test), which may never run the daemon."""
    previous = os.umask(PRIVATE_UMASK)
    early = None
    if argv is None and _runs_the_daemon(sys.argv[1:]):
        early = SenderProcess()
        # No collection while the daemon's modules are imported: they live as long as it does, and
        # walking them again and again cost about 50 ms of the start. shell.cmd_run freezes what the
        # start made and turns collection back on.
        gc.disable()
    try:
        from daemon.shell import run_command

        return run_command(argv, early)
    except KeyboardInterrupt:  # during the imports: the shell answers one later itself
        print("complaintsd: interrupted", file=sys.stderr)
        return 1
    finally:
        if early is not None:
            early.dismiss()  # unless the daemon adopted it
            gc.enable()  # if the command never reached cmd_run (a usage error)
        os.umask(previous)  # a caller in the same process (a test) gets its own back


def _runs_the_daemon(args: list[str]) -> bool:
    """`complaintsd [OPTIONS] run …` and not asking for help: the first word that is not an option
    (the global options take no value). A guess, for speed only: if wrong, the daemon starts its
    sender itself, or the one started ahead is dismissed."""
    words = [arg for arg in args if not arg.startswith("-")]
    return bool(words) and words[0] == "run" and not {"-h", "--help", "--version"} & set(args)


if __name__ == "__main__":
    sys.exit(main())
