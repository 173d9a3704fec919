# SDEKit — the README's commands. `make test` and `make demo` work on a fresh Debian machine:
# scripts/install-deps.sh installs libgsl-dev and pkg-config with apt-get when they are missing.

SWIFT ?= swift
# Binaries built here run here, so they may use every instruction this CPU has.
NATIVE := -Xswiftc -target-cpu -Xswiftc native
# Statistical tests solve many paths; release mode keeps `make test` within minutes.
TEST_FLAGS := -c release -Xswiftc -enable-testing

.PHONY: deps build test demo clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release $(NATIVE)

test: deps
	$(SWIFT) test $(TEST_FLAGS)

demo: build
	@echo "== strong convergence on geometric Brownian motion (REFERENCE W4), 10,000 paths =="
	@for solver in euler-maruyama milstein milstein-derivative-free sriw1; do \
	  .build/release/sdekit convergence --problem gbm --solver $$solver --paths 10000 --levels 3...10 || exit 1; echo; \
	done
	@echo "== ODE solvers on y' = Ay =="
	@for solver in euler heun midpoint rk4; do \
	  .build/release/sdekit convergence --problem linear-ode --solver $$solver --levels 3...10 | tail -n 1 | sed "s/^/$$solver: /" || exit 1; \
	done

clean:
	rm -rf .build
