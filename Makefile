# reludrop: `make demo` runs the main job, `make test` the whole suite.
# Both create or update the local virtual environment .venv by themselves.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lab hub bench bench-grading bench-class venv clean

# The instructor's whole workflow on a sample class in build/demo_course/, the four student kits in build/kits/
# (as if 01's and 03's solutions were released, which 02-04 need), then the handout's experiments.
demo: $(STAMP)
	@command -v bwrap >/dev/null 2>&1 || { echo "make demo grades in a bubblewrap sandbox: sudo apt-get install -y bubblewrap" >&2; exit 1; }
	@mkdir -p build
	$(PY) -m autograder demo --dir build/demo_course
	$(PY) -m autograder student-kit --all --to build/kits --released 01_relu_network --released 03_sigmoid_dropout
	$(PY) -m reludrop_core experiment all --plot build/experiments.png

# Installs the Debian packages the suite needs when run as root (bubblewrap, chromium, a Chinese font,
# postgresql), or stops at once with the apt-get command to run; then runs every test, skipping none.
test: $(STAMP)
	@bash .ci/ensure-debian
	$(PY) -m pytest

# JupyterLab on notebooks/ in student mode (see student_mode/README.md).
lab: $(STAMP)
	$(PY) scripts/lab.py

# The course's JupyterHub on 127.0.0.1:8000 (as root; settings in hub/course.toml, docs/jupyterhub.md): creates the
# course's environment in /opt/reludrop-hub first if it is missing, prepares the exchange and the course folder.
hub: $(STAMP)
	$(PY) scripts/hub.py --install

bench: $(STAMP)
	$(PY) benchmarks/bench_core.py

# Autograding against plain notebook execution (about 5 minutes).
bench-grading: $(STAMP)
	$(PY) benchmarks/bench_pipeline.py

# A synthetic class of 100 students graded by plain nbgrader (its default configuration), by `autograde --jobs 1`,
# `--jobs 2` and two shards on PostgreSQL, then 25 correct students (about an hour on 2 cores).
bench-class: $(STAMP)
	$(PY) benchmarks/bench_class.py

venv: $(STAMP)

# (Re)install whenever the project's requirements change.
$(STAMP): pyproject.toml
	@bash .ci/ensure-python "$(PYTHON)" "$(VENV)"
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[course,test]'
	@touch $(STAMP)

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis
