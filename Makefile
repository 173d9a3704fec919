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

DEMO := demo-output

# The main job on a built-in default: sample gmm2d8 under the VP SDE, write the samples (.npy)
# and a JSON report to $(DEMO)/, compare a few samplers, then show measured solver orders.
demo: build
	@mkdir -p $(DEMO)
	@echo "== SRA1 on the reverse VP SDE, gmm2d8, 20,000 samples =="
	@$(SDEKIT) sample --target gmm2d8 --sampler sra1 --steps 200 --count 20000 \
	  -o $(DEMO)/gmm2d8-sra1.npy --report $(DEMO)/gmm2d8-sra1.json
	@echo
	@echo "== other samplers on the same target (NFE, time, quality) =="
	@for run in euler-maruyama:1000 ddpm:1000 ddim:100 ode-rk4:100 ode-dopri5:1 ode-gsl-rk8pd:1; do \
	  sampler=$${run%%:*}; steps=$${run##*:}; \
	  $(SDEKIT) sample --target gmm2d8 --sampler $$sampler --steps $$steps --count 20000 | sed -n '1,3p' || exit 1; echo; \
	done
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
	@echo
	@echo "samples and report in $(DEMO)/"

bench: deps
	cd Benchmarks && $(SWIFT) package -Xswiftc -target-cpu -Xswiftc native benchmark

clean:
	rm -rf .build
