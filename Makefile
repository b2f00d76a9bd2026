# claimsbatch — one entry point for people and CI (.ci/run calls `make test`).
GO       ?= go
BIN      := bin/claimsbatch
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
SAMPLE   := testdata/sample
FUZZTIME ?= 30s

.PHONY: build run test test-race test-beam bench bench-quick bench-members pgo lint fuzz golden clean

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/claimsbatch

## run: adjudicate the bundled sample into ./out and print a one-screen summary.
## The as-of date is the one the sample implies (its latest received_date),
## so the run gives the golden bytes whatever the day (but for the tool
## version that make build stamps into the manifest and the report).
SAMPLE_AS_OF := 2025-05-02
run: build
	rm -rf out
	$(BIN) run --claims $(SAMPLE)/claims.csv --members $(SAMPLE)/members.csv \
		--fx $(SAMPLE)/fx.csv --out out --as-of $(SAMPLE_AS_OF)
	@echo
	@echo "outputs in ./out:"; ls -l out
	@echo; echo "first remittance lines:"; head -6 out/remittance.csv | cut -c1-200

## test: vet and every test (unit, golden end-to-end, fuzz seeds); no benchmarks
test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

## test-race: the tests of the packages that start goroutines, under the race
## detector, and the command's (its bad-input and interruption cases cancel
## runs mid-stage: a race there was found only by them); built with the
## spillcheck tag, which overwrites recycled spill blocks (spill.BlockPool)
RACE_PKGS := ./pipeline/ ./readers/ ./writers/ ./diff/ ./report/ ./synth/ ./explain/ ./cmd/claimsbatch/
test-race:
	$(GO) test -race -tags spillcheck -count=1 $(RACE_PKGS)

## test-beam: the Apache Beam runner's module (beam/, its own go.mod; a cold
## build downloads about 300 modules and takes minutes — CI caches them)
test-beam:
	$(MAKE) -C beam test GO="$(GO)"

## bench: micro-benchmarks once each, then claimsbatch vs DuckDB's sort-copy at
## 10 M and 30 M lines (CSV and Parquet); SIZES="..." to choose — see docs/BENCHMARKS.md;
## then the members' memory (bench-members)
bench:
	GO="$(GO)" MICRO=1 bash bench/run.sh
	GO="$(GO)" bash bench/members-rss.sh

## bench-members: peak RSS of 2 M members under --memory-limit 256MiB (fails
## past it by more than 8 MiB) and of one member with 300 k lines
bench-members:
	GO="$(GO)" bash bench/members-rss.sh

## bench-quick: the same comparison at 2 M lines only, no micro-benchmarks
bench-quick:
	GO="$(GO)" SIZES="$${SIZES:-2000000}" SORTED_SIZES="$${SORTED_SIZES-2000000}" bash bench/run.sh

## pgo: regenerate cmd/claimsbatch/default.pgo, the CPU profile go build
## optimises the binary with (profile-guided optimisation), from profiled
## runs on the 2 M-line bench sets; see docs/BENCHMARKS.md
pgo:
	GO="$(GO)" bash bench/pgo.sh

## lint: go vet, plus staticcheck when it is installed
lint:
	$(GO) vet ./...
	@if command -v staticcheck >/dev/null 2>&1; then staticcheck ./...; else echo "staticcheck not installed; skipped"; fi

## fuzz: run every fuzz target for FUZZTIME each
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$target"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

## golden: rewrite the golden files after an intended change (review the diff!)
golden:
	$(GO) test ./cmd/claimsbatch/ -run Golden -update
	$(GO) test ./importer/ -run Golden -update

clean:
	rm -rf bin out
