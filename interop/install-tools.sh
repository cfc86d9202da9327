#!/bin/sh
# Makes sure the programs and files the tests need are installed (Debian
# packages): SIPp and baresip, which the interop tests drive, the hold
# music the media engine plays by default, PostgreSQL's server binaries,
# which the store's contract tests start in a temporary directory, Kamailio,
# the SIP edge of the local cluster (interop/cluster), the SMTP
# server the voicemail's e-mail tests run (aiosmtpd), OpenSSH's sshd for
# the recordings' SFTP export tests, and the sources of the
# system prompts (Asterisk's English and French recordings, espeak-ng for
# Dutch and the rest), which it then builds into $PROMPTS_DIR. As root (or with password-less
# sudo) it installs what is missing with apt-get; otherwise it fails and says
# what is missing and how to install it. Tests never skip for a missing tool.
set -eu

MOH_DIR=/usr/share/asterisk/moh
SOUNDS_DIR=/usr/share/asterisk/sounds
PROMPTS_DIR=${PBX_PROMPTS:-/usr/local/share/pbx/prompts}

missing=""
check() {
	missing=""
	command -v sipp >/dev/null 2>&1 || missing="$missing sip-tester"
	command -v baresip >/dev/null 2>&1 || missing="$missing baresip-core"
	ls "$MOH_DIR"/*.wav >/dev/null 2>&1 || missing="$missing asterisk-moh-opsound-wav"
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$missing postgresql"
	command -v kamailio >/dev/null 2>&1 || [ -x /usr/sbin/kamailio ] || missing="$missing kamailio"
	/usr/bin/python3 -c "import aiosmtpd" >/dev/null 2>&1 || missing="$missing python3-aiosmtpd"
	command -v espeak-ng >/dev/null 2>&1 || missing="$missing espeak-ng"
	[ -x /usr/sbin/sshd ] || missing="$missing openssh-server"
	ls "$SOUNDS_DIR"/en_US_f_Allison/vm-intro.wav >/dev/null 2>&1 || missing="$missing asterisk-core-sounds-en-wav"
	ls "$SOUNDS_DIR"/fr_CA_f_June/vm-intro.wav >/dev/null 2>&1 || missing="$missing asterisk-core-sounds-fr-wav"
	missing="${missing# }"
}

describe() {
	for p in $missing; do
		case "$p" in
		sip-tester) echo "  sipp (Debian package sip-tester)" ;;
		baresip-core) echo "  baresip (Debian package baresip-core)" ;;
		asterisk-moh-opsound-wav) echo "  hold music in $MOH_DIR (Debian package asterisk-moh-opsound-wav)" ;;
		postgresql) echo "  PostgreSQL server binaries in /usr/lib/postgresql/*/bin (Debian package postgresql)" ;;
		kamailio) echo "  kamailio, the SIP edge of the local cluster's tests (Debian package kamailio)" ;;
		python3-aiosmtpd) echo "  the aiosmtpd SMTP server for /usr/bin/python3 (Debian package python3-aiosmtpd)" ;;
		espeak-ng) echo "  espeak-ng, which speaks the prompts that have no recording (Debian package espeak-ng)" ;;
		openssh-server) echo "  sshd, the SFTP server the recordings' export tests run (Debian package openssh-server)" ;;
		asterisk-core-sounds-en-wav) echo "  English prompt recordings in $SOUNDS_DIR (Debian package asterisk-core-sounds-en-wav)" ;;
		asterisk-core-sounds-fr-wav) echo "  French prompt recordings in $SOUNDS_DIR (Debian package asterisk-core-sounds-fr-wav)" ;;
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

# build_prompts makes the system prompts from prompts/texts.tsv when they
# are missing or older than the list.
build_prompts() {
	here=$(dirname "$0")/..
	if [ -f "$PROMPTS_DIR/.built" ] && [ ! "$here/prompts/texts.tsv" -nt "$PROMPTS_DIR/.built" ]; then
		return 0
	fi
	(cd "$here" && go run ./cmd/pbx-prompts -out "$PROMPTS_DIR") || {
		echo "make test: building the system prompts in $PROMPTS_DIR failed" >&2
		exit 1
	}
	touch "$PROMPTS_DIR/.built"
}

check
if [ -z "$missing" ]; then
	build_prompts
	exit 0
fi

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
build_prompts
