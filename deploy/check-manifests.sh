#!/usr/bin/env bash
# deploy/check-manifests.sh — parses every YAML file under deploy/, validates the Kubernetes
# manifests against the official schemas (strict; Kubernetes 1.27 and the newest the validator
# ships) and cross-checks the fields the gRPC probes, Services, HPA, PDB and the image rely on.
# Installs PyYAML and kubernetes-validate (PyPI) into <repo>/.venv (or $DOSSIER_VENV) when missing.
# Closes with "N passed, N failed"; exits non-zero on any failure.
#   DOSSIER_CHECK_SCHEMAS=0        skip schema validation (no kubernetes-validate install)
#   DOSSIER_K8S_VERSIONS=1.30.0,…  Kubernetes versions to validate against [1.27.0,latest]
set -euo pipefail
DOSSIER_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DOSSIER_REPO
# shellcheck source=deploy/venv.sh
. "$DOSSIER_REPO/deploy/venv.sh"
ensure_venv_package 'import yaml' 'PyYAML==6.0.3'
if [ "${DOSSIER_CHECK_SCHEMAS:-1}" != 0 ]; then
    ensure_venv_package 'import kubernetes_validate' 'kubernetes-validate==1.37.0'
fi
exec timeout 600 "$DOSSIER_VENV/bin/python" "$DOSSIER_REPO/deploy/check_manifests.py" "$@"
