#!/usr/bin/env bash
# Installs Debian packages that tests and the demo need (PostgreSQL, Prometheus, Chromium…),
# only when a command they provide is missing. Usage: ensure-apt.sh COMMAND=PACKAGE [COMMAND=PACKAGE…]
# COMMAND may be an absolute path (e.g. /usr/lib/postgresql/15/bin/initdb=postgresql).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

missing=()
for pair in "$@"; do
  cmd=${pair%%=*}; pkg=${pair#*=}
  if [[ "$cmd" == /* ]]; then [[ -x "$cmd" ]] && continue; else command -v "$cmd" >/dev/null 2>&1 && continue; fi
  missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

install() {
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "these Debian packages are needed and you are not root: ${missing[*]}. Install them with: apt-get install ${missing[*]}"
    sudo="sudo"
  fi
  require_cmd apt-get "shipwatch's local tools need Debian/Ubuntu packages: ${missing[*]}. Install the equivalents for your system."
  progress "installing Debian packages: ${missing[*]} (first run only)…"
  # Refresh the package lists once per cache, then install without prompts or service start-up.
  if [[ ! -f "$SHIPWATCH_CACHE/.apt-updated" ]]; then
    $sudo apt-get update -qq >&2 && touch "$SHIPWATCH_CACHE/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
    || die "apt-get install ${missing[*]} failed; run 'apt-get update' and try again."
}
with_lock apt install
