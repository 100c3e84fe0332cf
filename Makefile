# accelgen: every target creates .venv and installs the project (and its tools) on first use.
#   make sim TARGET=vta [CONFIG=configs/vta/<name>.json] [WAVES=1] [RANDOM=200]
#   make verilog TARGET=vta [CONFIG=...]      make test      make bench TARGET=vta      make clean

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
TARGET ?= vta
CONFIG ?= configs/$(TARGET)/default.json
RANDOM ?= 200
WAVES  ?= 0
WAVES_FLAG := $(if $(filter 1 yes true,$(WAVES)),--waves,)

.PHONY: all venv sim verilog test bench clean
all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

sim: $(STAMP)
	$(BIN)/accelgen regress $(TARGET) --config $(CONFIG) --random $(RANDOM) $(WAVES_FLAG)

verilog: $(STAMP)
	$(BIN)/accelgen verilog $(TARGET) --config $(CONFIG)

test: $(STAMP)
	$(BIN)/python -m pytest -q -ra

bench: $(STAMP)
	$(BIN)/python -m bench.$(subst -,_,$(TARGET))

clean:
	rm -rf build
