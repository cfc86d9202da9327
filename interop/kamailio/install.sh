#!/bin/sh
# Installs Kamailio with its SQLite database module (Debian packages) when
# missing, for `make bench-peers`. Never fails the build: it says what is
# missing and exits 0; the benchmark then reports that Kamailio is absent.
if command -v kamailio >/dev/null 2>&1 || [ -x /usr/sbin/kamailio ]; then
	if [ -f /usr/lib/x86_64-linux-gnu/kamailio/modules/db_sqlite.so ] || ls /usr/lib/*/kamailio/modules/db_sqlite.so >/dev/null 2>&1; then
		exit 0
	fi
fi
SUDO=
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
		echo "bench-peers: kamailio is missing; install the Debian packages kamailio and kamailio-sqlite-modules" >&2
		exit 0
	fi
fi
echo "bench-peers: installing kamailio and kamailio-sqlite-modules" >&2
if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q kamailio kamailio-sqlite-modules >&2; then
	echo "bench-peers: could not install kamailio (apt-get failed)" >&2
fi
exit 0
