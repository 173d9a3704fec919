# SDEKit — the README's commands. `make test` and `make demo` work on a fresh Debian machine:
# scripts/install-deps.sh installs libgsl-dev and pkg-config with apt-get when they are missing.

SWIFT ?= swift
# Binaries built here run here, so they may use every instruction this CPU has.
NATIVE := -Xswiftc -target-cpu -Xswiftc native
# Statistical tests solve many paths; release mode keeps `make test` within minutes.
TEST_FLAGS := -c release -Xswiftc -enable-testing

.PHONY: deps build test demo bench clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release $(NATIVE)

test: deps
	$(SWIFT) test $(TEST_FLAGS)

SDEKIT := .build/release/sdekit

# For now the demo is a convergence study: measured orders beside declared ones.
demo: build
	@echo "== Milstein on geometric Brownian motion (REFERENCE W4), 10,000 paths, one Brownian path per sample =="
	@$(SDEKIT) convergence --problem gbm --solver milstein --paths 10000 --levels 3...10
	@echo
	@echo "== fitted strong orders (problem, solver) =="
	@for run in gbm:euler-maruyama gbm:milstein-derivative-free gbm:sriw1 gbm-diagonal:sriw1 \
	            additive:euler-maruyama double-well:sra1 double-well:stochastic-heun ou:stochastic-heun; do \
	  problem=$${run%%:*}; solver=$${run##*:}; \
	  printf '%-14s %-26s ' $$problem $$solver; \
	  $(SDEKIT) convergence --problem $$problem --solver $$solver --paths 4000 --levels 3...8 | tail -n 1 || exit 1; \
	done
	@echo
	@echo "== adaptive: Dormand–Prince 5(4) and GSL's rk8pd on Lotka–Volterra, error against cost =="
	@$(SDEKIT) convergence --problem lotka-volterra --solver dopri5 --tolerances 1e-3...1e-9
	@$(SDEKIT) convergence --problem lotka-volterra --solver gsl-rk8pd --tolerances 1e-3...1e-9
	@echo
	@echo "== ODE solvers on y' = Ay (global error, dt = 2^-5 ... 2^-10) =="
	@for solver in euler heun midpoint rk4; do \
	  printf '%-14s %-26s ' linear-ode $$solver; \
	  $(SDEKIT) convergence --problem linear-ode --solver $$solver --levels 5...10 | tail -n 1 || exit 1; \
	done

bench: deps
	cd Benchmarks && $(SWIFT) package -Xswiftc -target-cpu -Xswiftc native benchmark

clean:
	rm -rf .build
