# The two commands of the README, and their parts.
#   make quickstart   install, then train/evaluate/export NetAug on generated data
#   make test         install, then run the test suite
# (not PYTHON: an exported PYTHON would reach tools/install.sh, which takes
# it as the interpreter that creates the venv)
VENV_PYTHON := $(or $(VENV),.venv)/bin/python

.PHONY: install quickstart test

install:
	bash tools/install.sh

quickstart: install
	bash tools/quickstart.sh

test: install
	$(VENV_PYTHON) -m pytest tests -q -n 2 --dist loadfile
