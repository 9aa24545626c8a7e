#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The guest SDK from outside the tree (issue 7 item 16): install kvmsim into a temporary
# directory, build tests/sdk/sumcheck.c there with the system gcc and only what the installed
# pkg-config file gives, run it with the installed `kvmsim run --guest`, and check that host
# events land on its stack and its .data, that --arg, --console and the whole console work, that a
# stack overflow hits the guard, and that a replay refuses a rebuilt program. TAP output.
#
# usage: test-sdk.sh BUILD_DIR SOURCE_DIR
set -u

build=$1
src=$2
. "$(dirname "$0")/../tap.sh"
tap_init sdk

check() { # check DESCRIPTION COMMAND...: ok if the command succeeds
	what=$1
	shift
	if "$@" >"$base/out" 2>&1; then
		ok "$what"
	else
		not_ok "$what" "$*" "$(tail -n 5 "$base/out")"
	fi
}

# The memslot of a recorded trace: "ID GPA SIZE HVA" lines, numbers in decimal.
memslots() {
	sed -n 's/.*<memslot id="\([0-9]*\)" gpa="\(0x[0-9a-f]*\)" size="\(0x[0-9a-f]*\)" hva="\(0x[0-9a-f]*\)".*/\1 \2 \3 \4/p' "$1" |
		while read -r id gpa size hva; do
			echo "$id $((gpa)) $((size)) $((hva))"
		done
}

# The pages the notifier migrated, as decimal hvas, from an event log.
migrated() {
	sed -n 's/.*notifier  sim_mm_migrate: hva \(0x[0-9a-f]*\) .*/\1/p' "$1" |
		while read -r hva; do
			echo $((hva))
		done
}

# How many of the hvas on stdin lie in [lo, hi).
count_in() {
	lo=$1 hi=$2 c=0
	while read -r h; do
		[ "$h" -ge "$lo" ] && [ "$h" -lt "$hi" ] && c=$((c + 1))
	done
	echo $c
}

if ! meson install -C "$build" --no-rebuild --quiet --destdir "$base/root" >"$base/out" 2>&1; then
	not_ok "kvmsim installs into a temporary directory" "$(tail -n 5 "$base/out")"
	echo "1..$n"
	exit 1
fi
pc=$(find "$base/root" -name kvmsim-guest.pc | head -n 1)
prefix=$(sed -n 's/^prefix=//p' "$pc")
root=$base/root$prefix
kvmsim=$root/bin/kvmsim
export PKG_CONFIG_PATH="${pc%/*}"
cflags=$(pkg-config --define-variable=prefix="$root" --cflags kvmsim-guest)
libs=$(pkg-config --define-variable=prefix="$root" --libs kvmsim-guest)
case " $cflags $libs" in
*" -Werror"* | *" -Wall"* | *" -Wextra"*) not_ok "the SDK imposes no warning flags on guest code" "$cflags" ;;
*) ok "the SDK imposes no warning flags on guest code" ;;
esac

mkdir "$base/guest"
cp "$src/tests/sdk/sumcheck.c" "$base/guest/"
cd "$base/guest" || exit 1
# shellcheck disable=SC2086 # the flags are words
check "a guest builds outside the tree with the system gcc and the installed SDK" \
	sh -c "gcc $cflags -O2 -c sumcheck.c -o sumcheck.o && gcc -o sumcheck.elf sumcheck.o $libs"

# The walk-through of docs/guests.md: its hello.c, built as the page says, run with the page's
# host-events command, gets the host events the page says s.json shows (some, not none).
doc=$src/docs/guests.md
mkdir "$base/hello"
awk '/^```c$/ {c = 1; next} /^```$/ {c = 0} c' "$doc" >"$base/hello/hello.c"
doc_cmd=$(awk '/^## Running it under host events/ {s = 1} s && /^```sh$/ {f = 1; next}
	f && /^```$/ {exit} f' "$doc" | sed -e ':a' -e '/\\$/{N;s/\\\n[[:space:]]*/ /;ba}')
want=$(sed -n 's/.*`"migrate" : \([0-9]*\)` and `"age" : \([0-9]*\)`.*/migrate \1 age \2/p' "$doc")
# shellcheck disable=SC2086 # the flags and the command are words
(cd "$base/hello" && gcc $cflags -O2 -Wall -c hello.c && gcc -o hello.elf hello.o $libs &&
	"$kvmsim" ${doc_cmd#kvmsim }) >"$base/hello/out" 2>&1
status=$?
got=$(python3 -c 'import json, sys; h = json.load(open(sys.argv[1]))["host"]
print("migrate", h["migrate"], "age", h["age"])' "$base/hello/s.json" 2>&1)
if [ $status -eq 0 ] && [ -n "$want" ] && [ "$got" = "$want" ] && [ "$got" != "migrate 0 age 0" ]
then
	ok "docs/guests.md's hello.c under its host-events command gets the events it says ($got)"
else
	not_ok "docs/guests.md's hello.c under its host-events command gets the events it says" \
		"exit $status, command: $doc_cmd" "the page says: $want; s.json has: $got" \
		"$(tail -n 5 "$base/hello/out")"
fi

"$kvmsim" run --guest sumcheck.elf --mem 1M --arg "hello world" --console con >out 2>err
status=$?
if [ $status -eq 0 ] && grep -q "^  guest      pass: sumcheck: arg=hello world len=11$" out &&
	grep -q "^             sumcheck: result=pass$" out &&
	[ "$(cat con)" = "$(printf 'sumcheck: arg=hello world len=11\nsumcheck: vcpus=2 rounds=40 mean=1950 bad=0\nsumcheck: result=pass')" ]; then
	ok "the guest (2 MiB of .data and .bss, past the old 256 KiB image limit) runs, reads --arg, and its whole console is shown and written to --console"
else
	not_ok "the guest (2 MiB of .data and .bss, past the old 256 KiB image limit) runs, reads --arg, and its whole console is shown and written to --console" \
		"exit $status" "$(cat out err con)"
fi

# Host events only on the stacks: every migration lands in a stack memslot, and there are some.
"$kvmsim" run --guest sumcheck.elf --mem 1M --host-events migrate=2000 --host-events-every 2 \
	--host-events-on stacks --log stacks.log --record stacks.xml >out 2>&1
status=$?
memslots stacks.xml >slots
in_stacks=0
while read -r id gpa size hva; do
	[ "$id" -ge 2 ] || continue
	c=$(migrated stacks.log | count_in "$hva" $((hva + size)))
	in_stacks=$((in_stacks + c))
done <slots
total=$(migrated stacks.log | wc -l)
if [ $status -eq 0 ] && [ "$total" -ge 5 ] && [ "$in_stacks" -eq "$total" ]; then
	ok "host events hit the guest's stacks ($total migrations) and it still passes"
else
	not_ok "host events hit the guest's stacks ($total migrations) and it still passes" \
		"exit $status, $in_stacks of $total migrations in a stack memslot" "$(cat out)"
fi

# All guest memory (the default): some migrations land on the program's .data.
"$kvmsim" run --guest sumcheck.elf --mem 1M --host-events migrate=2000 --host-events-every 2 \
	--log all.log --record all.xml >out 2>&1
status=$?
boot_hva=$(memslots all.xml | sed -n 's/^0 [0-9]* [0-9]* //p')
data=$(nm sumcheck.elf | sed -n 's/^\([0-9a-f]*\) d data_table$/\1/p')
in_data=$(migrated all.log | count_in $((boot_hva + 0x$data)) $((boot_hva + 0x$data + 64 * 2048 * 8)))
if [ $status -eq 0 ] && [ "$in_data" -ge 1 ]; then
	ok "host events hit the guest's .data in the boot memslot ($in_data migrations)"
else
	not_ok "host events hit the guest's .data in the boot memslot ($in_data migrations)" \
		"exit $status" "$(cat out)"
fi
check "the recorded run of the guest replays" "$kvmsim" replay all.xml

# A rebuilt program: the replay says so, with both hashes.
# shellcheck disable=SC2086
gcc $cflags -O1 -c sumcheck.c -o sumcheck.o && gcc -o sumcheck.elf sumcheck.o $libs
"$kvmsim" replay all.xml >out 2>&1
status=$?
if [ $status -ne 0 ] && grep -q "sumcheck.elf has SHA-256 [0-9a-f]*, but the trace was recorded with image-sha256 [0-9a-f]*: the program changed" out; then
	ok "replaying with a rebuilt program fails saying its SHA-256 differs"
else
	not_ok "replaying with a rebuilt program fails saying its SHA-256 differs" "exit $status" \
		"$(cat out)"
fi

mv sumcheck.elf moved.elf
"$kvmsim" replay all.xml >out 2>&1
status=$?
mv moved.elf sumcheck.elf
if [ $status -ne 0 ] && grep -q "all.xml:[0-9]*: <workload> guest: .*sumcheck.elf" out; then
	ok "replaying when the program file is gone fails naming the trace line and the file"
else
	not_ok "replaying when the program file is gone fails naming the trace line and the file" \
		"exit $status" "$(cat out)"
fi

# A stack overflow runs into the unmapped guard below the stack (vCPU 0's: the first 64 KiB at
# 4 GiB) and is reported, instead of writing into another vCPU's stack.
"$kvmsim" run --guest sumcheck.elf --mem 1M --arg overflow >out 2>err
status=$?
gpa=$(sed -n 's/.*guest accessed gpa \(0x[0-9a-f]*\), outside guest memory.*/\1/p' err)
if [ $status -eq 1 ] && [ -n "$gpa" ] && [ $((gpa)) -ge $((0x100000000)) ] &&
	[ $((gpa)) -lt $((0x100010000)) ]; then
	ok "a stack overflow faults in the guard below the stack"
else
	not_ok "a stack overflow faults in the guard below the stack" "exit $status" "$(cat err)"
fi

# With 4 vCPUs all overflowing, each faults in its own guard (vCPU i's at 4 GiB + i * 128 KiB),
# though the stacks and guards are one region of the CPU emulator, and no stack is written
# through by its neighbour.
"$kvmsim" run --vcpus 4 --guest sumcheck.elf --mem 1M --arg overflow --log log4 >out 2>err
status=$?
guards=$(sed -n 's/.*sim_vcpu_error: vcpu \([0-9]*\): guest accessed gpa \(0x[0-9a-f]*\), outside guest memory.*/\1 \2/p' log4 |
	while read -r id gpa; do
		lo=$((0x100000000 + id * 0x20000))
		[ $((gpa)) -ge $lo ] && [ $((gpa)) -lt $((lo + 0x10000)) ] && echo "$id"
	done | sort -u | tr '\n' ' ')
if [ $status -eq 1 ] && [ "$guards" = "0 1 2 3 " ]; then
	ok "each vCPU's stack overflow faults in its own guard"
else
	not_ok "each vCPU's stack overflow faults in its own guard" "exit $status, guards hit: $guards" \
		"$(grep sim_vcpu_error log4)"
fi

# The same program as a flat binary: entered at its first byte.
objcopy -O binary sumcheck.elf sumcheck.bin
check "the guest also runs as a flat binary" "$kvmsim" run --guest sumcheck.bin --mem 1M

# Programs kvmsim cannot run, and misused options: one error line, exit status 2, before any run.
usage_case() { # usage_case DESCRIPTION EXPECTED-STDERR-PATTERN ARGS...
	what=$1 pattern=$2
	shift 2
	"$kvmsim" run "$@" >out 2>err
	status=$?
	if [ $status -eq 2 ] && [ "$(wc -l <err)" -eq 1 ] && grep -q "^kvmsim: error: $pattern" err; then
		ok "$what"
	else
		not_ok "$what" "exit $status" "$(cat err)"
	fi
}
: >empty
gcc -o dynamic.elf sumcheck.o -nostartfiles -nostdlib -shared 2>/dev/null || cp /bin/sh dynamic.elf
usage_case "a missing --guest file is a usage error" "--guest: .*missing.elf" \
	--guest missing.elf
usage_case "an empty --guest file is a usage error" "--guest empty: flat image of 0 bytes" \
	--guest empty
usage_case "a --guest ELF that is not a static executable is a usage error" \
	"--guest dynamic.elf: .*\(ET_EXEC\|dynamically linked\)" --guest dynamic.elf
# linked without the SDK's script: ld's default base, 0x400000, is past the image window
sdk=${pc%/*}/../kvmsim
gcc -o outside.elf sumcheck.o -nostdlib -static -no-pie "$sdk/kvmsim-crt0.o" \
	"$sdk/libkvmsim-guest.a" -lgcc
usage_case "a --guest ELF with a segment outside the image window is a usage error" \
	"--guest outside.elf: PT_LOAD segment [0-9]* at 0x4[0-9a-f]*+0x[0-9a-f]* is outside the image window 0x100000-0x400000" \
	--guest outside.elf
usage_case "an unusable --console path is a usage error" "--console no/such/dir/con" \
	touch --mem 1M --console no/such/dir/con
usage_case "a WORKLOAD and --guest together are a usage error" "run takes a WORKLOAD or --guest" \
	touch --guest sumcheck.elf
usage_case "an unknown --host-events-on region is a usage error" \
	"--host-events-on: 'heap' is not a region (image, stacks, data)" touch --host-events-on heap
usage_case "a negative --host-events-every is a usage error" "--host-events-every -1" \
	touch --host-events-every -1
long=$(head -c 70000 /dev/zero | tr '\0' 'a')
usage_case "an --arg of 64 KiB or more is a usage error" "--arg: 70000 bytes, at most 65535" \
	touch --arg "$long"

echo "1..$n"
exit $failed
