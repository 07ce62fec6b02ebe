"""$py of the integration tests: `python3 ARGS`, run by the warm server of
pyref_server.py when one answers at $KILN_PYREF, by a fresh python3 when none
does. Only the standard library's light modules: this starts on every call.

The script gets this process's standard input, output and error, working
folder, environment and arguments; this process exits as it did (a signal
sent to this process is passed on to it).
"""

import json
import os
import signal
import socket
import struct
import sys

PYTHON = "/usr/bin/python3"
PINNED_ENV = {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "passive"}


def fresh_python():
    env = dict(os.environ, **PINNED_ENV)
    os.execve(PYTHON, [PYTHON] + sys.argv[1:], env)


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
    path = os.environ.get("KILN_PYREF")
    if not path:
        fresh_python()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        fresh_python()
    body = json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
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
