"""A warm Python for the integration tests' reference scripts.

Importing numpy, pandas, scipy and scikit-learn costs about a second of CPU
per `python3` started, and the integration tests start it hundreds of times
(measured: most of a parity test's time was imports). This server imports
them once; each request (from pyref_client.py, which the tests run as $py)
is answered by a fresh fork of the warm process that takes over the
client's standard input, output and error (passed over the Unix socket),
its working folder, environment and arguments, runs the script as
`python3 ARGS` would, and reports the exit status back. A fork shares
nothing with the next request: every script still runs in a process of its
own, as before.

    pyref_server.py --start SOCKET   start a server (no-op if one answers)
    pyref_server.py --stop SOCKET    stop it
    pyref_server.py --serve SOCKET   run in the foreground (what --start forks)

The server leaves by itself after an hour without requests.
"""

import os
import sys

# The reference tools run on one OpenMP thread, spinning passively (see
# tests/integration/lib.sh); these must be set before numpy is imported.
PINNED_ENV = {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "passive"}
os.environ.update(PINNED_ENV)

import json  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import struct  # noqa: E402
import time  # noqa: E402

IDLE_EXIT_S = 3600
PRELOAD = [
    "numpy", "pandas", "scipy.stats", "scipy.special", "sklearn", "sklearn.base",
    "sklearn.ensemble", "sklearn.linear_model", "sklearn.tree", "sklearn.svm",
    "sklearn.naive_bayes", "sklearn.neighbors", "sklearn.preprocessing", "sklearn.impute",
    "sklearn.compose", "sklearn.pipeline", "sklearn.model_selection", "sklearn.metrics",
    "sklearn.cluster", "sklearn.feature_selection", "sklearn.decomposition",
    "sklearn.inspection", "sklearn.isotonic", "sklearn.calibration", "sklearn.mixture",
    "sklearn.neural_network", "sklearn.discriminant_analysis", "sklearn.kernel_ridge",
    "sklearn.multiclass", "sklearn.feature_extraction", "imblearn", "imblearn.over_sampling",
    "imblearn.under_sampling", "imblearn.ensemble", "xgboost", "urllib.request",
    "http.client", "runpy", "traceback", "threading", "types", "atexit", "csv", "gzip",
    "sqlite3", "subprocess", "statistics", "random", "hashlib",
]


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        part = conn.recv(n - len(buf))
        if not part:
            raise EOFError
        buf += part
    return buf


def run_script(req):
    """In the forked child: become `python3 ARGV` and never return."""
    import atexit
    import builtins
    import gc
    import runpy
    import threading
    import traceback
    import types

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.chdir(req["cwd"])
    os.environ.clear()
    os.environ.update(req["env"])
    os.environ.update(PINNED_ENV)
    args = list(req["argv"])
    while args and args[0] in ("-u", "-B", "-E", "-s", "-S", "-I", "-O", "-q"):
        args.pop(0)
    code = 0
    scope = {}  # the script's globals, finalised at the end as the interpreter would
    try:
        if args and args[0] == "-m":
            sys.argv = [args[1]] + args[2:]
            sys.path[0] = os.getcwd()
            sys.modules.pop(args[1], None)  # preloaded: runpy would warn that it is
            scope = runpy.run_module(args[1], run_name="__main__", alter_sys=True)
        elif args and args[0] not in ("-", "-c"):
            sys.argv = args
            sys.path[0] = os.path.dirname(os.path.abspath(args[0]))
            scope = runpy.run_path(args[0], run_name="__main__")
        else:
            if args and args[0] == "-c":
                source, name, sys.argv = args[1], "<string>", ["-c"] + args[2:]
            else:  # the client read the script from its stdin
                source, name = req.get("source", ""), "<stdin>"
                sys.argv = ["-"] + args[1:] if args else [""]
            sys.path[0] = ""
            main = types.ModuleType("__main__")
            main.__builtins__ = builtins
            sys.modules["__main__"] = main
            scope = main.__dict__
            exec(compile(source, name, "exec"), scope)
        for t in threading.enumerate():  # as the interpreter does at exit
            if t is not threading.main_thread() and not t.daemon:
                t.join()
    except SystemExit as e:
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code
        else:
            print(e.code, file=sys.stderr)
            code = 1
    except KeyboardInterrupt:
        traceback.print_exc()
        code = 130
    except BaseException:  # noqa: B036 -- report it as python3 would
        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()
        # What the interpreter's shutdown does and os._exit does not: the
        # script's objects are destroyed, so a file it wrote without closing
        # (csv.writer(open(...))) is flushed. (Only the script's objects: the
        # preloaded ones are frozen, so the collection does not touch, and
        # copy, the whole inherited heap.)
        scope.clear()
        sys.modules.pop("__main__", None)
        sys.last_traceback = sys.last_value = None
        gc.collect()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: B036
        code = code or 120
    os._exit(code & 0xFF)


def handle(conn, server_pid):
    """In a forked handler: run one request in a child and report its end."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        # the descriptors come with the first bytes (one sendmsg)
        msg, fds, _, _ = socket.recv_fds(conn, 1 << 16, 3)
        while len(msg) < 4:
            msg += recv_exact(conn, 4 - len(msg))
        (size,) = struct.unpack("!I", msg[:4])
        if len(msg) < 4 + size:
            msg += recv_exact(conn, 4 + size - len(msg))
        req = json.loads(msg[4:])
    except (EOFError, OSError, ValueError):
        os._exit(1)
    if req.get("op") == "ping":
        conn.sendall(b"pong\n")
        os._exit(0)
    if req.get("op") == "stop":
        os.kill(server_pid, signal.SIGTERM)
        conn.sendall(b"stopping\n")
        os._exit(0)
    if len(fds) != 3:
        os._exit(1)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        conn.close()
        for i, fd in enumerate(fds):
            os.dup2(fd, i)
            os.close(fd)
        run_script(req)
    for fd in fds:
        os.close(fd)
    pidfd = os.pidfd_open(pid)
    watch = [conn, pidfd]
    while True:
        ready, _, _ = select.select(watch, [], [])
        if pidfd in ready:
            _, status = os.waitpid(pid, 0)
            if os.WIFSIGNALED(status):
                reply = "signal %d\n" % os.WTERMSIG(status)
            else:
                reply = "exit %d\n" % os.WEXITSTATUS(status)
            try:
                conn.sendall(reply.encode())
            except OSError:
                pass
            os._exit(0)
        data = conn.recv(64)
        if not data:  # the client is gone: so is its script
            watch = [pidfd]
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            continue
        for line in data.decode().split("\n"):
            if line.startswith("kill "):
                try:
                    os.kill(pid, int(line[5:]))
                except (ValueError, ProcessLookupError):
                    pass


def serve(path):
    for name in PRELOAD:
        try:
            __import__(name)
        except Exception:  # noqa: BLE001 -- a tool that is absent is imported by no test
            pass
    sys.stdout.flush()
    sys.stderr.flush()
    # Every preloaded object out of the collector's sight: a fork's
    # collections then never write to (and so copy) the inherited heap.
    import gc

    gc.collect()
    gc.freeze()
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path + ".tmp")
    os.rename(path + ".tmp", path)  # appears only once it listens
    sock.listen(128)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # handlers are reaped by the kernel

    def leave(*_):
        try:
            if os.stat(path).st_ino == mine:
                os.unlink(path)
        except OSError:
            pass
        os._exit(0)

    mine = os.stat(path).st_ino
    signal.signal(signal.SIGTERM, leave)
    sock.settimeout(IDLE_EXIT_S)
    me = os.getpid()
    while True:
        try:
            conn, _ = sock.accept()
        except socket.timeout:
            leave()
        except InterruptedError:
            continue
        if os.fork() == 0:
            sock.close()
            handle(conn, me)
        conn.close()


def ask(path, op):
    """Sends op to the server at path; its answer, or None when none answers."""
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(path)
        body = json.dumps({"op": op}).encode()
        s.sendall(struct.pack("!I", len(body)) + body)
        return s.recv(64).decode()
    except OSError:
        return None


def start(path):
    if ask(path, "ping") == "pong\n":
        return 0
    log = open(path + ".log", "ab")
    if os.fork() == 0:
        os.setsid()  # out of ctest's process group and its output pipe
        if os.fork() == 0:
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            try:
                serve(path)
            finally:
                os._exit(1)
        os._exit(0)
    os.wait()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if ask(path, "ping") == "pong\n":
            print("pyref: warm python at", path)
            return 0
        time.sleep(0.1)
    print("pyref: the server did not start; see", path + ".log", file=sys.stderr)
    return 1


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("--start", "--stop", "--serve"):
        print(__doc__, file=sys.stderr)
        return 2
    path = sys.argv[2]
    if sys.argv[1] == "--start":
        return start(path)
    if sys.argv[1] == "--stop":
        ask(path, "stop")
        return 0
    serve(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
