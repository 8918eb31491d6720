# tenant-operator Makefile. `make help` lists the targets.
#
# Every tool is built from Go modules into bin/, one folder per tool version (see hack/build-tools.sh); the versions
# are read from the tool modules under hack/tools/, so bumping one is a `go get` there and nothing else.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec
.DEFAULT_GOAL := help

GO ?= go
BIN := $(CURDIR)/bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMG ?= ghcr.io/tenant-operator/tenant-operator:$(VERSION)
# The race detector needs cgo and a C compiler; without one, the tests run without it. -count=1: the integration
# tiers drive processes and binaries outside the test cache's view, so a cached pass would prove nothing.
GO_TEST_FLAGS ?= $(if $(shell command -v gcc 2>/dev/null),-race) -count=1 -timeout 30m
# TEST_NODE=skip skips the node tier (containerd, kubelet, real pods; needs root and Debian's packages), saying so.
export TEST_NODE ?=

# modver reads the version a tool module pins: $(call modver,<dir under hack/tools>,<module path>).
modver = $(shell awk '{for (i = 1; i < NF; i++) if ($$i == "$(2)") { print $$(i+1); exit }}' hack/tools/$(1)/go.mod)
export CONTROLLER_TOOLS_VERSION := $(call modver,controller-gen,sigs.k8s.io/controller-tools)
export KUBERNETES_VERSION := $(call modver,k8s,k8s.io/kubernetes)
export ETCD_VERSION := $(call modver,etcd,go.etcd.io/etcd/server/v3)
export HELM_VERSION := $(call modver,helm,helm.sh/helm/v3)
export GOLANGCI_LINT_VERSION := $(call modver,golangci-lint,github.com/golangci/golangci-lint/v2)
export VULN_VERSION := $(call modver,vuln,golang.org/x/vuln)
export VULNDB_VERSION := $(call modver,vuln,golang.org/x/vulndb)
export KUSTOMIZE_VERSION := $(call modver,kustomize,sigs.k8s.io/kustomize/kustomize/v5)
export KUBE_ROUTER_VERSION := $(call modver,kube-router,github.com/cloudnativelabs/kube-router/v2)
export COREDNS_VERSION := $(call modver,coredns,github.com/coredns/coredns)
export PROMETHEUS_VERSION := $(call modver,alerteval,github.com/prometheus/prometheus)

CONTROLLER_GEN := $(BIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)/controller-gen
KUBE_APISERVER := $(BIN)/k8s-$(KUBERNETES_VERSION)/kube-apiserver
ETCD := $(BIN)/etcd-$(ETCD_VERSION)/etcd
HELM := $(BIN)/helm-$(HELM_VERSION)/helm
GOLANGCI_LINT := $(BIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)/golangci-lint
GOVULNCHECK := $(BIN)/vuln-$(VULN_VERSION)/govulncheck
KUSTOMIZE := $(BIN)/kustomize-$(KUSTOMIZE_VERSION)/kustomize
# alerteval is ours (hack/tools/alerteval): its folder is keyed by its source as well, as hack/build-tools.sh does.
ALERTEVAL := $(BIN)/alerteval-$(PROMETHEUS_VERSION)-$(shell cat hack/tools/alerteval/main.go hack/tools/alerteval/go.sum | sha256sum | cut -c1-12)/alerteval
MANAGER := $(BIN)/manager
DEMO := $(BIN)/demo

# The local control plane (hack/localcluster) finds etcd, kube-apiserver, kube-controller-manager and kubectl here.
export KUBEBUILDER_ASSETS := $(BIN)/envtest

CHART := charts/tenant-operator
# Paths holding generated files: `make verify` fails when regenerating changes any of them.
GENERATED := ':(glob)api/**/zz_generated.*.go' config/crd/bases config/rbac/role.yaml $(CHART)/templates/crds.yaml $(CHART)/templates/manager-role.yaml $(CHART)/templates/tenant-roles.yaml \
	$(CHART)/templates/guardrails.yaml $(CHART)/templates/image-pull-policy.yaml $(CHART)/templates/grant-tracking.yaml $(CHART)/templates/placement.yaml

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Try it

.PHONY: demo
demo: control-plane node $(MANAGER) ## Start a local control plane and its node, run the operator, apply the samples, summarise them and show a connection allowed and one refused (DEMO_EXIT=1 to exit after the summary; TEST_NODE=skip: no node).
	$(GO) build -o $(DEMO) ./hack/demo
	$(DEMO) --manager=$(MANAGER) --manifests=config/default --samples=config/samples

# RUN_ARGS adds manager flags to make run (a later flag wins: RUN_ARGS=--health-probe-bind-address=:9081).
RUN_ARGS ?=
.PHONY: run
run: manifests generate ## Run the operator against the cluster of the current kubeconfig.
	$(GO) run . --metrics-bind-address=0 --health-probe-bind-address=:8081 $(RUN_ARGS)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate the CRD and the operator's RBAC role from markers, and the chart's copies of them.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/..." paths="./controllers/..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	hack/gen-chart.sh

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate the deepcopy functions of the API types.
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths="./api/..."

.PHONY: fmt
fmt: ## Format the Go code.
	$(GO) fmt ./...

.PHONY: vet
vet: ## Run go vet.
	$(GO) vet ./...

.PHONY: verify
verify: manifests generate ## Regenerate everything generated and fail when anything changed; check formatting and go.mod.
	@if [ -n "$$(gofmt -l $$(git ls-files '*.go'))" ]; then echo "gofmt needed on:"; gofmt -l $$(git ls-files '*.go'); exit 1; fi
	$(GO) mod tidy -diff
	@for m in hack/tools/*/; do (cd $$m && $(GO) mod tidy -diff) || { echo "$$m: go.mod is not tidy"; exit 1; }; done
	@changed="$$(git status --porcelain --untracked-files=all -- $(GENERATED))"; \
	if [ -n "$$changed" ]; then \
		echo "Generated files are out of date; run 'make manifests generate' and commit:"; echo "$$changed"; \
		git --no-pager diff -- $(GENERATED) | head -50; exit 1; fi
	@echo "verify: generated files are up to date"

.PHONY: lint
lint: $(GOLANGCI_LINT) $(HELM) vulncheck ## Run golangci-lint (config in .golangci.yml, gosec included), helm lint and govulncheck.
	$(GOLANGCI_LINT) run ./...
	cd hack/tools/alerteval && $(GOLANGCI_LINT) run ./...
	$(HELM) lint $(CHART)

.PHONY: vulncheck
vulncheck: ## Check the code and its dependencies for known vulnerabilities (database built offline from golang.org/x/vulndb).
	@hack/build-tools.sh vuln
	$(GO) run ./hack/vulncheck $(GOVULNCHECK) -db file://$(BIN)/vulndb-$(VULNDB_VERSION) ./...

##@ Test

.PHONY: test
test: vet $(MANAGER) control-plane node postgres $(HELM) $(KUSTOMIZE) $(ALERTEVAL) ## Run every test tier: unit, envtest integration, e2e, install (Helm, kustomize, Argo CD), security, isolation and database.
	MANAGER_BINARY=$(MANAGER) HELM_BINARY=$(HELM) KUSTOMIZE_BINARY=$(KUSTOMIZE) ALERTEVAL_BINARY=$(ALERTEVAL) SECURITY_REPORT=$(BIN)/escape-report.md ISOLATION_REPORT=$(BIN)/isolation-report.md DATABASE_REPORT=$(BIN)/database-report.md DOCS_REPORT=$(BIN)/docs-report.md ALERTS_REPORT=$(BIN)/alerts-report.md $(GO) test $(GO_TEST_FLAGS) ./...
	@cat $(BIN)/escape-report.md
	@cat $(BIN)/isolation-report.md
	@cat $(BIN)/database-report.md
	@cat $(BIN)/docs-report.md
	@cat $(BIN)/alerts-report.md

.PHONY: test-unit
test-unit: ## Run the unit tests only (no control plane).
	$(GO) test -short $(GO_TEST_FLAGS) ./...

.PHONY: test-integration
test-integration: control-plane node ## Run the envtest suites (controllers, local control plane and its node).
	$(GO) test $(GO_TEST_FLAGS) ./controllers/... ./hack/localcluster/...

.PHONY: test-security
test-security: $(MANAGER) control-plane node ## Run the tenant-escape suite (guardrails, MTB checks; its network attempts as packets on the node) and print its table.
	MANAGER_BINARY=$(MANAGER) SECURITY_REPORT=$(BIN)/escape-report.md $(GO) test $(GO_TEST_FLAGS) ./test/security/...
	@cat $(BIN)/escape-report.md

.PHONY: test-isolation
test-isolation: $(MANAGER) control-plane node ## Prove isolation with packets on the node: the matrix of connections between tenants' pods and to the outside, printed as a table.
	MANAGER_BINARY=$(MANAGER) ISOLATION_REPORT=$(BIN)/isolation-report.md $(GO) test $(GO_TEST_FLAGS) ./test/isolation/...
	@cat $(BIN)/isolation-report.md

.PHONY: test-database
test-database: postgres ## Prove tenant data isolation in PostgreSQL with real SQL, model by model, printed as tables.
	DATABASE_REPORT=$(BIN)/database-report.md $(GO) test $(GO_TEST_FLAGS) ./hack/localpostgres/... ./controllers/database/... ./test/database/...
	@cat $(BIN)/database-report.md

.PHONY: test-install
test-install: $(MANAGER) control-plane $(HELM) $(ALERTEVAL) ## Run the install tests: chart lint/template/install/upgrade, kustomize install, GitOps, Argo CD health check, the chart's alerts firing.
	MANAGER_BINARY=$(MANAGER) HELM_BINARY=$(HELM) ALERTEVAL_BINARY=$(ALERTEVAL) ALERTS_REPORT=$(BIN)/alerts-report.md $(GO) test $(GO_TEST_FLAGS) ./test/install/... ./test/argocd/...

.PHONY: test-e2e
test-e2e: $(MANAGER) control-plane ## Run the e2e tests: the manager binary against a local control plane.
	MANAGER_BINARY=$(MANAGER) $(GO) test $(GO_TEST_FLAGS) ./test/e2e/...

.PHONY: test-docs
test-docs: $(MANAGER) control-plane $(HELM) $(KUSTOMIZE) ## Run the commands of the README and docs/ on local control planes (make help, make run, the installs, kubectl get tenants, ...) and print what ran and what was skipped.
	MANAGER_BINARY=$(MANAGER) HELM_BINARY=$(HELM) KUSTOMIZE_BINARY=$(KUSTOMIZE) DOCS_REPORT=$(BIN)/docs-report.md $(GO) test $(GO_TEST_FLAGS) ./test/docs/...
	@cat $(BIN)/docs-report.md

##@ Benchmark

BENCH_N ?= 200
BENCH_ARGS ?=
.PHONY: bench
bench: $(MANAGER) control-plane node ## Measure provisioning against the raw apiserver limit, API cost, steady-state writes, memory, drift repair, tenants to Ready on the node (BENCH_N=200; BENCH_ARGS="-idle=1m ...").
	$(GO) run ./test/bench -n $(BENCH_N) -manager $(MANAGER) -json $(BIN)/bench.json -markdown $(BIN)/bench.md $(BENCH_ARGS)

##@ Build

.PHONY: build
build: $(MANAGER) ## Build the manager binary into bin/manager.

.PHONY: $(MANAGER)
$(MANAGER):
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(MANAGER) .

.PHONY: plugin
plugin: ## Build the kubectl plugin into bin/kubectl-tenant: with bin/ on the PATH, kubectl tenant audit <tenant>.
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/kubectl-tenant ./hack/kubectl-tenant

.PHONY: docker-build
docker-build: ## Build the container image (needs a Docker engine).
	docker build --build-arg VERSION=$(VERSION) -t $(IMG) .

.PHONY: docker-build-dry
docker-build-dry: ## Check the image build without a Docker engine: lint the Dockerfile, build the manager from exactly what it copies from the build context.
	DOCKER_BUILD_VERSION=$(VERSION) $(GO) test -count=1 -v -run 'TestDockerfile|TestBuildCatches' ./test/dockerfile/

##@ Tools

.PHONY: tools
tools: $(CONTROLLER_GEN) control-plane $(HELM) $(KUSTOMIZE) $(GOLANGCI_LINT) $(GOVULNCHECK) $(ALERTEVAL) ## Build every tool into bin/ (skips what is already built at its version).

.PHONY: control-plane
control-plane: $(KUBE_APISERVER) $(ETCD) ## Build etcd, kube-apiserver, kube-controller-manager and kubectl.
	@hack/build-tools.sh k8s etcd

.PHONY: node
node: control-plane ## Build the node's kubelet, kube-scheduler, kube-proxy, kube-router and CoreDNS, and install its Debian packages (root; TEST_NODE=skip skips the node tier).
	@if [ "$(TEST_NODE)" != skip ]; then hack/build-tools.sh node; fi
	@hack/node-packages.sh

.PHONY: postgres
postgres: ## Install Debian's postgresql package when missing, for the database tier's test server (root; TEST_DATABASE=skip skips the tier).
	@hack/postgres-packages.sh

$(CONTROLLER_GEN):
	hack/build-tools.sh controller-gen
$(KUBE_APISERVER):
	hack/build-tools.sh k8s
$(ETCD):
	hack/build-tools.sh etcd
$(HELM):
	hack/build-tools.sh helm
$(GOLANGCI_LINT):
	hack/build-tools.sh golangci-lint
$(GOVULNCHECK):
	hack/build-tools.sh vuln
$(KUSTOMIZE):
	hack/build-kustomize.sh
$(ALERTEVAL):
	hack/build-tools.sh alerteval

.PHONY: tools-versions
tools-versions: tools ## Print the version every built tool reports.
	@$(CONTROLLER_GEN) --version
	@$(BIN)/kube-apiserver --version
	@$(BIN)/kube-controller-manager --version
	@$(BIN)/kubectl version --client
	@$(ETCD) --version | head -1
	@$(HELM) version --short
	@$(KUSTOMIZE) version
	@$(GOLANGCI_LINT) version

.PHONY: clean
clean: ## Remove build outputs (keeps the built tools; `rm -rf bin` removes those too).
	rm -f $(MANAGER) $(DEMO) cover.out
