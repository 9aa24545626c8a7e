# Shared by ./demo and ./test: install the Debian 12 packages kvmsim needs (only those missing),
# then configure and build into build/. Sourced, not run.
kvmsim_packages="meson ninja-build pkg-config gcc libc6-dev binutils python3 libunicorn-dev
libcapstone-dev libglib2.0-dev check libxml2-dev libxml2-utils libjson-glib-dev libssl-dev
libtraceevent-dev libtracefs-dev libtracecmd-dev"
# What only the test suite needs: clang's libFuzzer for the trace reader's fuzz test; trace-cmd
# for the import suite (trace-cmd report of kvmsim's trace.dat files); graphviz for kvmsim show
# tree --png.
kvmsim_test_packages="clang libclang-rt-14-dev trace-cmd graphviz"

# kvmsim_setup [EXTRA_PACKAGES]: install what is missing, configure, build.
kvmsim_setup() {
	missing=""
	for p in $kvmsim_packages ${1:-}; do
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

# The formats test compares its table with the running kernel's tracefs when the host runs 6.18:
# mount tracefs where it is missing and we may (root); without it that test prints a skip.
kvmsim_tracefs() {
	t=/sys/kernel/tracing
	[ -e "$t/events" ] && return 0
	[ "$(id -u)" -eq 0 ] && [ -d "$t" ] && mount -t tracefs nodev "$t" 2>/dev/null
	[ -e "$t/events" ] || echo "kvmsim: tracefs is not mounted at $t; the formats test will skip its comparison with the running kernel" >&2
	return 0
}
