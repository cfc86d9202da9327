# pbx: a hosted business phone system softswitch.
#
#   make run     build and serve with a demo tenant (data in ./data)
#   make test    install the test tools if missing, go vet, every test
#   make bench   print performance figures, one "name value unit" per line
#   make bench-peers  the REGISTER benchmark against the pbx and Kamailio,
#                in one run, and their ratio
#   make bench-cluster  REGISTER/s and calls/s through Kamailio with two
#                nodes on PostgreSQL, next to one node on SQLite
#
# Other targets: build, vet, fmt, tools, clean.

GO      ?= go
BIN     := bin/pbx
DATA    ?= ./data

.PHONY: soak fuzz all build run test tools vet fmt bench bench-peers bench-cluster clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/pbx

run: build
	./$(BIN) serve --demo --data $(DATA)

# The interop tests drive the server with SIPp and baresip and the media
# engine plays the Asterisk hold music: install them (or fail, saying how).
tools:
	@sh interop/install-tools.sh

vet:
	$(GO) vet ./...

fmt:
	gofmt -l -w .

# Call control and media run under the race detector (the packages where
# goroutines meet: signalling, media, the call programs and the app); the
# rest runs without it.
RACE_PKGS := ./sip/... ./media/... ./callctl/... ./dialplan/... ./features/... ./cmd/pbx
test: tools vet
	$(GO) test -race $(RACE_PKGS) -count=1 -timeout 30m
	$(GO) test $$($(GO) list ./... | grep -v -e '/sip' -e '/media' -e '/callctl' -e '/dialplan' -e '/features' -e '/cmd/pbx$$') -count=1 -timeout 30m

# Benchmarks measure, they never fail the build: each line is
# "name value unit"; progress goes to stderr.
bench:
	@echo "make bench: about 10 minutes on two cores (regbench, callbench, vmbench), at most 40; each prints its own estimate" >&2
	-@sh interop/install-tools.sh
	-@$(GO) run ./interop/cmd/regbench
	-@$(GO) run ./interop/cmd/callbench
	-@$(GO) run ./interop/cmd/vmbench
	-@$(GO) run ./interop/cmd/usagebench

# The same REGISTER scenario against `pbx serve` and then Kamailio (a
# registrar configuration equivalent to ours: interop/kamailio), installed
# if missing; prints both figures and register_ratio_to_kamailio; then the
# call setup rate of both, Kamailio as a stateful proxy authenticating
# INVITEs (interop/kamailio/proxy.cfg), and cps_ratio_to_kamailio.
bench-peers:
	-@sh interop/install-tools.sh
	-@sh interop/kamailio/install.sh
	-@$(GO) run ./interop/cmd/peerbench

# The REGISTER and call-rate searches of bench-peers through a local
# cluster (interop/cluster: PostgreSQL, two pbx nodes, Kamailio with
# deploy/kamailio/edge.cfg), after the same searches against one node on
# SQLite: figures with the suffixes _single and _cluster.
bench-cluster:
	-@sh interop/install-tools.sh
	-@sh interop/kamailio/install.sh
	-@$(GO) run ./interop/cmd/clusterbench

# SOAK_DURATION (default 30m) of registrations, calls with RTP, busy-lamp
# subscriptions and REST reads at a moderate rate; prints the server's
# memory, goroutines, descriptors and failures every minute and fails on
# any failure or unbounded growth. Not part of `make test`.
SOAK_DURATION ?= 30m
soak:
	$(GO) run ./interop/cmd/soak -duration $(SOAK_DURATION)

# Each fuzz target for FUZZTIME (SIP datagrams through the running
# server's handlers, REGISTER, digest credentials, SDP, provisioning
# requests); a crash leaves its input under the package's testdata/fuzz.
FUZZTIME ?= 60s
FUZZ_TARGETS = ./cmd/pbx:FuzzServerDatagram ./sip/registrar:FuzzRegister ./sip/sipauth:FuzzParseCredentials \
	./media/sdp:FuzzParse ./provisioning:FuzzRequest
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		echo "fuzz $$name ($$pkg) for $(FUZZTIME)"; \
		$(GO) test $$pkg -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) || exit 1; \
	done

clean:
	rm -rf bin
