#!/bin/sh
# Makes sure the programs and files the tests need are installed (Debian
# packages): SIPp and baresip, which the interop tests drive, the hold
# music the media engine plays by default, and PostgreSQL's server binaries,
# which the store's contract tests start in a temporary directory. As root (or with password-less
# sudo) it installs what is missing with apt-get; otherwise it fails and says
# what is missing and how to install it. Tests never skip for a missing tool.
set -eu

MOH_DIR=/usr/share/asterisk/moh

missing=""
check() {
	missing=""
	command -v sipp >/dev/null 2>&1 || missing="$missing sip-tester"
	command -v baresip >/dev/null 2>&1 || missing="$missing baresip-core"
	ls "$MOH_DIR"/*.wav >/dev/null 2>&1 || missing="$missing asterisk-moh-opsound-wav"
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$missing postgresql"
	missing="${missing# }"
}

describe() {
	for p in $missing; do
		case "$p" in
		sip-tester) echo "  sipp (Debian package sip-tester)" ;;
		baresip-core) echo "  baresip (Debian package baresip-core)" ;;
		asterisk-moh-opsound-wav) echo "  hold music in $MOH_DIR (Debian package asterisk-moh-opsound-wav)" ;;
		postgresql) echo "  PostgreSQL server binaries in /usr/lib/postgresql/*/bin (Debian package postgresql)" ;;
		esac
	done
}

fail() {
	echo "make test: missing test dependencies:" >&2
	describe >&2
	echo "$1" >&2
	echo "Install them with:  sudo apt-get install $missing" >&2
	exit 1
}

check
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	SUDO="sudo -n"
else
	fail "Not root and no password-less sudo: cannot install them here."
fi
command -v apt-get >/dev/null 2>&1 || fail "apt-get not found: this is not a Debian-like system."

echo "make test: installing $missing"
# shellcheck disable=SC2086 # word splitting of the package list is intended
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
	fail "apt-get update failed."
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing ||
	fail "apt-get install failed."

check
[ -z "$missing" ] || fail "Still missing after apt-get install."
