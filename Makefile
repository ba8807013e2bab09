# The course's single entry point. `make lab` opens the course, `make test` runs every test.
# Both create the virtual environment (.venv) on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
GPU_STAMP := $(VENV)/.installed-gpu
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONUNBUFFERED := 1

.PHONY: setup lab test data gpu lint clean-notebooks readme-times export clean student progress workshop-pack teacher-guide colab weights

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

setup: $(STAMP) ## create .venv and install the course

lab: $(STAMP) ## open the course in JupyterLab
	$(BIN)/jupyter lab notebooks/00_setup.ipynb

test: $(STAMP) ## unit tests + every notebook under nbval (fast mode unless COURSE_MODE says otherwise)
	COURSE_MODE=$${COURSE_MODE:-fast} $(BIN)/python -m pytest

data: $(STAMP) ## prefetch every dataset and weights file into the course cache
	$(BIN)/python -m helpers.datasets prefetch

$(GPU_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,gpu]"
	touch $@

gpu: $(GPU_STAMP) ## run every notebook in full mode on an NVIDIA GPU
	COURSE_MODE=full $(BIN)/python -m pytest notebooks

lint: $(STAMP)
	$(BIN)/ruff check .

export: $(STAMP) ## regenerate helpers/lessons/ from the notebook cells tagged `export`
	$(BIN)/python -m coursetools.export

weights: $(STAMP) ## train the full-mode models fast mode loads (helpers/weights/, with records; about an hour on 2 cores)
	$(BIN)/python -m coursetools.weights

clean-notebooks: $(STAMP) ## strip outputs and normalise notebook metadata
	$(BIN)/python -m coursetools.notebook_hygiene --fix notebooks

readme-times: $(STAMP) ## copy the last test run's notebook timings into README.md
	$(BIN)/python -m coursetools.timing_report README.md

student: $(STAMP) ## the student edition in student/: exercise solutions replaced by placeholders, checks kept
	$(BIN)/python -m coursetools.edition student --out student

progress: $(STAMP) ## which exercises your notebooks pass (student/ if it exists, else notebooks/; fast mode)
	$(BIN)/python -m coursetools.progress

workshop-pack: $(STAMP) ## offline workshop pack (data, wheels, course, install.sh): make workshop-pack OUT=/path
	@test -n "$(OUT)" || { echo "usage: make workshop-pack OUT=/path/to/folder"; exit 2; }
	$(BIN)/python -m coursetools.workshop pack "$(OUT)"

teacher-guide: $(STAMP) ## record the last test run's notebook timings into docs/teacher_guide.md (DEVICE=gpu after make gpu)
	$(BIN)/python -m coursetools.teacher_guide $(if $(DEVICE),--device $(DEVICE))

colab: $(STAMP) ## add or update the Open-in-Colab badge and Colab setup cell of every notebook
	$(BIN)/python -m coursetools.colab --fix notebooks

clean:
	rm -rf build artifacts .pytest_cache
