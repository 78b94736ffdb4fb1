# faildirs — the two commands for a new user are `make quickstart` and `make test`.
# Every target installs what it needs first (`make setup`, idempotent and fast when everything is present).

SHELL := /bin/bash
# The Go toolchain go.mod needs (GoMLX v0.28.16 requires Go 1.27); the go command fetches it from the module proxy
# once (about 76 MB) when the installed Go is another version.
export GOTOOLCHAIN := go1.27.3
GOBIN := $(shell go env GOPATH)/bin
export PATH := $(GOBIN):$(PATH)
# GoMLX's Go backend compiles its AVX2/AVX-512 matmul kernels only with this experiment (amd64).
ifeq ($(shell go env GOARCH),amd64)
export GOEXPERIMENT := simd
endif

NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))

.PHONY: setup quickstart lab test lint gotest labcheck nbtest bench gobench env

## setup: Debian packages (Jupyter, Fashion-MNIST, WordNet), gonb + goimports, the GoNB kernel
setup:
	@.ci/setup

## quickstart: the main job — run notebooks/00_quickstart.ipynb headless into results/quickstart.html
quickstart: setup
	go run ./distill/cmd/nbcheck -out results/executed -html results notebooks/00_quickstart.ipynb
	mv results/00_quickstart.html results/quickstart.html
	@echo "wrote results/quickstart.html"

## lab: the classic Jupyter notebook server on notebooks/ with the GoNB kernel (--allow-root added as root)
lab: setup
	go run ./distill/cmd/nbcheck -lab notebooks

## test: gofmt, go vet, go test, the `make lab` path headless, and every notebook executed headless
test: setup lint gotest labcheck nbtest

lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go vet ./...

gotest:
	go test ./...

labcheck:
	go run ./distill/cmd/nbcheck -lab-check notebooks

nbtest:
	go run ./distill/cmd/nbcheck -parallel 2 $(NOTEBOOKS)

## bench: the speed summary (faildirs bench; REF=<folder of the reference scripts> adds the reference figures),
## with the quick start's cached cell latency from nbcheck -times; writes results/bench.json
bench: setup
	mkdir -p results
	go run ./distill/cmd/nbcheck -times results/notebook-times.json notebooks/00_quickstart.ipynb
	go run ./distill/cmd/faildirs bench $(if $(REF),-ref $(REF)) -notebook-times results/notebook-times.json -json results/bench.json

## gobench: the Go benchmarks of every package
gobench: setup
	go test -run '^$$' -bench . -benchtime 3x ./...

env:
	go run ./distill/cmd/faildirs env
