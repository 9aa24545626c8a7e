# Shared by ./demo and ./test: install the Debian 12 packages kvmsim needs (only those missing),
# then configure and build into build/. Sourced, not run.
kvmsim_packages="meson ninja-build pkg-config gcc libc6-dev binutils python3 libunicorn-dev
libcapstone-dev libglib2.0-dev check libxml2-dev libxml2-utils libjson-glib-dev libssl-dev"

kvmsim_setup() {
	missing=""
	for p in $kvmsim_packages; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "kvmsim: installing$missing" >&2
		sudo=""
		[ "$(id -u)" -eq 0 ] || sudo=sudo
		$sudo apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
	fi
	[ -f build/build.ninja ] || meson setup build -Dwerror=true >/dev/null
	meson compile -C build >/dev/null
}
