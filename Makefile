# accelgen: every target creates .venv and installs the project (and its tools) on first use.
#   make sim TARGET=<engine> [CONFIG=configs/<engine>/<name>.json] [WAVES=1] [RANDOM=n]
#   make verilog TARGET=<engine> [CONFIG=...]      make test      make bench TARGET=<bench>      make clean
#   make synth TARGET=<engine> [CONFIG=...] FAMILY=ecp5|ice40|gowin|xilinx
#   make pnr TARGET=<engine> [CONFIG=...] FAMILY=ecp5|ice40|gowin DEVICE=<device> [PNR_ARGS="--router router2 --no-dsp"]
# Engines: vta systolic rbe xpulpnn cap (see README.md).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
TARGET ?= vta
CONFIG ?= configs/$(TARGET)/default.json
RANDOM ?=
FAMILY ?= ecp5
DEVICE ?=
WAVES  ?= 0
# pytest-xdist workers for make test (the machine has 2 cores; Verilator builds are shared through a file lock).
JOBS   ?= 2
WAVES_FLAG := $(if $(filter 1 yes true,$(WAVES)),--waves,)

.PHONY: all venv sim verilog synth pnr test bench clean
all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

sim: $(STAMP)
	$(BIN)/accelgen regress $(TARGET) --config $(CONFIG) $(if $(RANDOM),--random $(RANDOM),) $(WAVES_FLAG)

verilog: $(STAMP)
	$(BIN)/accelgen verilog $(TARGET) --config $(CONFIG)

synth: $(STAMP)
	$(BIN)/accelgen synth $(TARGET) --config $(CONFIG) --family $(FAMILY)

pnr: $(STAMP)
	$(BIN)/accelgen pnr $(TARGET) --config $(CONFIG) --family $(FAMILY) $(if $(DEVICE),--device $(DEVICE),) $(PNR_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -q -ra -n $(JOBS)

bench: $(STAMP)
	$(BIN)/python -m bench.$(subst -,_,$(TARGET))

clean:
	rm -rf build
