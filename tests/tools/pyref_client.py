"""$py of the integration tests: `python3 ARGS`. A script that imports the
heavy libraries (numpy, pandas, scipy, scikit-learn, xgboost, imbalanced-learn)
is run by the warm server of pyref_server.py when one answers at $KILN_PYREF;
any other script, or any script when none answers, by a fresh python3 (a fork
of the warm one costs more than a bare python3 that imports json). Only the
standard library's light modules here: this starts on every call.

The script gets this process's standard input, output and error, working
folder, environment and arguments; this process exits as it did (a signal
sent to this process is passed on to it).
"""

import json
import os
import re
import signal
import socket
import struct
import sys

PYTHON = "/usr/bin/python3"
PINNED_ENV = {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "passive"}
# an import statement (a line's first, or after a ';') that names one of
# them anywhere in its list: `import numpy`, `import sys, numpy as np`,
# `from scipy import stats`, `import sys; import pandas`
HEAVY = re.compile(
    rb"(^|;)[ \t]*(import|from)[ \t]+([^\n;]*[ \t,])?(numpy|pandas|scipy|sklearn|xgboost|imblearn)\b",
    re.M)
PIPE_MAX = 60000  # a script this long or shorter fits in a pipe's buffer


def fresh_python(source=None):
    """exec python3 with our arguments; source: the script `-` read from stdin."""
    env = dict(os.environ, **PINNED_ENV)
    if source is not None:  # give it back on standard input
        r, w = os.pipe()
        os.write(w, source)
        os.close(w)
        os.dup2(r, 0)
        os.close(r)
    os.execve(PYTHON, [PYTHON] + sys.argv[1:], env)


def script_of(args):
    """(the script's text or None, whether it came from stdin)."""
    while args and args[0] in ("-u", "-B", "-E", "-s", "-S", "-I", "-O", "-q"):
        args = args[1:]
    if not args or args[0] == "-":
        data = b""
        while len(data) <= PIPE_MAX:
            part = os.read(0, 65536)
            if not part:
                return data, True
            data += part
        return data, True  # too long to hand back through a pipe: the warm one takes it
    if args[0] == "-c":
        return os.fsencode(args[1]) if len(args) > 1 else b"", False
    if args[0] == "-m":
        return None, False
    try:
        with open(args[0], "rb") as f:
            return f.read(), False
    except OSError:
        return None, False


def std_fds():
    fds = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
            fds.append(fd)
        except OSError:  # closed: the script gets /dev/null there
            fds.append(os.open(os.devnull, os.O_RDWR))
    return fds


def main():
    source, from_stdin = script_of(sys.argv[1:])
    stdin_source = source if from_stdin else None
    path = os.environ.get("KILN_PYREF")
    if not path or source is None or (not HEAVY.search(source) and len(source) <= PIPE_MAX):
        fresh_python(stdin_source)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        if stdin_source is not None and len(stdin_source) > PIPE_MAX:
            print("pyref: no warm python, and the script is too long to pass on", file=sys.stderr)
            os._exit(125)
        fresh_python(stdin_source)
    req = {"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}
    if stdin_source is not None:
        req["source"] = stdin_source.decode("utf-8", "surrogateescape")
    body = json.dumps(req).encode()
    socket.send_fds(sock, [struct.pack("!I", len(body)) + body], std_fds())

    def relay(sig, _frame):
        try:
            sock.sendall(b"kill %d\n" % sig)
        except OSError:
            pass

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
                signal.SIGUSR2):
        signal.signal(sig, relay)
    reply = b""
    while not reply.endswith(b"\n"):
        try:
            part = sock.recv(64)
        except InterruptedError:
            continue
        if not part:
            print("pyref: the warm python went away", file=sys.stderr)
            os._exit(125)
        reply += part
    kind, value = reply.decode().split()
    if kind == "signal":
        signal.signal(int(value), signal.SIG_DFL)
        os.kill(os.getpid(), int(value))
    os._exit(int(value))


main()
