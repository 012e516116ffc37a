# What the kernel tests share: the newest Debian kernel package matching a regex, from
# the APT sources, cached in $KERNEL_CACHE; and a boot of it under qemu with an initramfs.
# Sourced after tests/integration/lib.sh, which provides $work, die and the rest.

# fetch_kernel REGEX: sets vmlinuz to the kernel image (exits 77 where the APT sources
# lack the package, and fails under CI).
fetch_kernel() {
	local regex=$1 cache=${KERNEL_CACHE:?KERNEL_CACHE is not set: run the tests through ctest}
	local package deb tool
	for tool in qemu-system-x86_64 cpio busybox dpkg-deb; do
		command -v $tool >/dev/null || [ -x /bin/$tool ] ||
			die "$tool is missing (scripts/setup.sh installs it)"
	done
	package=$(newest_package "$regex")
	if [ -z "$package" ]; then
		apt-get update -qq || die "apt-get update failed"
		package=$(newest_package "$regex")
	fi
	if [ -z "$package" ]; then
		# This machine's APT sources do not carry it (6.12 is in bookworm-security): not
		# tcptrace's fault, but CI must run every kernel, so there it is a failure.
		[ -n "${CI:-}" ] && die "no package in the APT sources matches $regex"
		echo "skipped: no package in this machine's APT sources matches $regex"
		exit 77
	fi
	mkdir -p "$cache"
	deb=$(ls "$cache/${package}"_*.deb 2>/dev/null | head -n 1)
	if [ -z "$deb" ]; then
		(cd "$cache" && apt-get download "$package" >/dev/null 2>&1) ||
			die "cannot download $package"
		deb=$(ls "$cache/${package}"_*.deb | head -n 1)
	fi
	echo "kernel package: $(basename "$deb")"
	mkdir "$work/kernel"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/kernel" --wildcards './boot/vmlinuz-*' ||
		die "no kernel image in $deb"
	vmlinuz=$(ls "$work"/kernel/boot/vmlinuz-*)
	extract_reject_modules "$deb"
}

# What a REJECT rule needs, in the order insmod loads them (Debian builds them as
# modules): uncompressed into $work/modules.
REJECT_MODULES="libcrc32c nfnetlink nf_tables nf_reject_ipv4 nf_reject_ipv6 nft_reject nft_reject_inet"
extract_reject_modules() {
	local deb=$1 module patterns=()
	for module in $REJECT_MODULES; do
		patterns+=("*/$module.ko*")
	done
	mkdir -p "$work/modules"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/kernel" --wildcards "${patterns[@]}" ||
		die "no netfilter modules in $deb"
	find "$work/kernel/lib" \( -name '*.ko' -o -name '*.ko.xz' \) -exec mv {} "$work/modules/" \;
	for module in "$work"/modules/*.xz; do
		[ -e "$module" ] && xz -d "$module"
	done
}

newest_package() {
	apt-cache search --names-only "^$1\$" | awk '{ print $1 }' | sort -V | tail -n 1
}

# boot ROOT: packs ROOT (its /init runs the scenario) and boots $vmlinuz with it; the
# console, carriage returns removed, is in $work/console, which must say TT-DONE.
boot() {
	(cd "$1" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$work/initramfs.gz"
	# KVM is unreliable on these machines: software emulation, a few seconds to boot.
	timeout -k 10 300 qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m 1024 -nographic \
		-no-reboot -kernel "$vmlinuz" -initrd "$work/initramfs.gz" \
		-append "console=ttyS0 quiet panic=-1" </dev/null >"$work/console.raw" ||
		die "qemu failed (status $?)"
	tr -d '\r' <"$work/console.raw" >"$work/console"
	grep -q 'TT-DONE' "$work/console" || { cat "$work/console" >&2; die "the scenario did not finish"; }
}

# section TAG: the lines the VM marked TT-TAG.
section() {
	sed -n "s/^.*TT-$1 //p" "$work/console"
}
