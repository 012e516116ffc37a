# What the kernel tests share: the newest Debian kernel package matching a regex, from
# the APT sources, cached in $KERNEL_CACHE; and a boot of it under qemu with an initramfs.
# Sourced after tests/integration/lib.sh, which provides $work, die and the rest.

# fetch_kernel REGEX: sets vmlinuz to the kernel image of the newest package named REGEX
# that downloads, and puts the modules a REJECT rule needs in $work/modules. It looks in
# this machine's APT sources (Debian 12: 6.1, 6.12), then in the test's own (own_apt:
# Debian 11's 5.10, unstable's 7.x), in their cached lists first: a list is refreshed
# only when no cached one names a package that downloads. Exits 77 where no source lists
# the package, and fails under CI.
fetch_kernel() {
	local regex=$1 cache=${KERNEL_CACHE:?KERNEL_CACHE is not set: run the tests through ctest}
	local tool refresh apt package listed=0
	for tool in qemu-system-x86_64 cpio busybox dpkg-deb; do
		command -v $tool >/dev/null || [ -x /bin/$tool ] ||
			die "$tool is missing (scripts/setup.sh installs it)"
	done
	mkdir -p "$cache"
	own_apt_config
	debs=()
	for refresh in no yes; do
		for apt in host_apt own_apt; do
			if [ $refresh = yes ]; then
				$apt apt-get update -qq || die "apt-get update failed ($apt)"
			fi
			for package in $($apt apt-cache search --names-only "^$regex\$" | awk '{ print $1 }' | sort -rV); do
				listed=$((listed + 1))
				# Some listed builds are gone from the archive (404): the next one, then.
				fetch_debs $apt "$package" && break 3
				debs=()
			done
		done
	done
	if [ ${#debs[@]} = 0 ]; then
		[ $listed = 0 ] || die "none of the packages listed as $regex downloads"
		# No source carries it: not tcptrace's fault, but CI must run every kernel, so
		# there it is a failure.
		[ -n "${CI:-}" ] && die "no package in the APT sources matches $regex"
		echo "skipped: no package in the APT sources matches $regex"
		exit 77
	fi
	echo "kernel package: $(basename -a "${debs[@]}" | paste -sd ' ')"
	extract_kernel "${debs[@]}"
}

# fetch_debs APT PACKAGE: appends to debs the package's .deb in $KERNEL_CACHE, downloaded
# unless there already, and those of the linux-binary-* and linux-modules-* packages it
# depends on: from 7.x, linux-image-* is empty, vmlinuz and the modules are in those.
# Fails when one does not download.
fetch_debs() {
	local apt=$1 package=$2 file dep
	# A line: the quoted URI, the file name, size and hash.
	read -r _ file _ < <($apt apt-get download --print-uris "$package" 2>/dev/null)
	[ -n "${file:-}" ] || return 1
	if [ ! -e "$KERNEL_CACHE/$file" ]; then
		(cd "$KERNEL_CACHE" && $apt apt-get download "$package" >/dev/null 2>&1) || return 1
	fi
	debs+=("$KERNEL_CACHE/$file")
	for dep in $(dpkg-deb -f "$KERNEL_CACHE/$file" Depends | grep -o 'linux-\(binary\|modules\)-[^ ,]*'); do
		fetch_debs $apt "$dep" || return 1
	done
}

# host_apt COMMAND...: COMMAND (apt-get, apt-cache) with this machine's APT configuration.
host_apt() {
	"$@"
}

# own_apt COMMAND...: COMMAND with the test's own APT configuration (own_apt_config).
own_apt() {
	APT_CONFIG=$KERNEL_CACHE/apt/apt.conf "$@"
}

# own_apt_config: the test's own APT configuration in $KERNEL_CACHE/apt, for the Debian
# suites with kernels this machine's sources lack. Its lists stay there across runs. It
# reads nothing of /etc/apt (sources, apt.conf.d's hooks, preferences) nor the machine's
# installed packages, and changes nothing there.
own_apt_config() {
	local dir=$KERNEL_CACHE/apt keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	mkdir -p "$dir"/{empty,lists/partial,archives/partial}
	touch "$dir/status"
	# Debian's archive keyring holds the keys of both: bullseye's, and bookworm's and
	# trixie's, with which sid and experimental are signed.
	cat >"$dir/sources.list" <<-EOF
		# Debian 11's 5.10; its newer builds are in the security suite.
		deb [signed-by=$keyring] http://deb.debian.org/debian bullseye main
		deb [signed-by=$keyring] http://deb.debian.org/debian-security bullseye-security main
		# Debian unstable's 7.x, and experimental's release candidates.
		deb [signed-by=$keyring] http://deb.debian.org/debian sid main
		deb [signed-by=$keyring] http://deb.debian.org/debian experimental main
	EOF
	# APT reads APT_CONFIG first: what it says about Dir::Etc decides what else it reads.
	cat >"$dir/apt.conf" <<-EOF
		Dir::Etc::main "/dev/null";
		Dir::Etc::parts "$dir/empty";
		Dir::Etc::sourcelist "$dir/sources.list";
		Dir::Etc::sourceparts "$dir/empty";
		Dir::Etc::preferences "/dev/null";
		Dir::Etc::preferencesparts "$dir/empty";
		Dir::State "$dir";
		Dir::State::status "$dir/status";
		Dir::Cache "$dir";
		Dir::Cache::srcpkgcache "";
		APT::Architectures { "amd64"; };
		Acquire::Languages "none";
		Acquire::GzipIndexes "true";
		// The archive here is a frozen copy: sid's Release is past its Valid-Until date.
		Acquire::Check-Valid-Until "false";
	EOF
}

# What a REJECT rule needs, in the order insmod loads them; Debian builds them as
# modules. From 7.x, libcrc32c is gone (crc32c is built in) and so is nfnetlink (built in):
# extract_kernel keeps only those the kernel has as modules.
REJECT_MODULES="libcrc32c nfnetlink nf_tables nf_reject_ipv4 nf_reject_ipv6 nft_reject nft_reject_inet"

# extract_kernel DEB...: sets vmlinuz to the kernel image, which is boot/vmlinuz-VERSION
# up to 6.x and usr/lib/modules/VERSION/vmlinuz from 7.x; puts the modules of
# REJECT_MODULES, uncompressed, into $work/modules, and leaves in REJECT_MODULES those
# found there, having checked that each one's dependencies load before it.
extract_kernel() {
	local deb module dep patterns=('*/vmlinuz*') loaded=
	for module in $REJECT_MODULES; do
		patterns+=("*/$module.ko*")
	done
	mkdir "$work/kernel" "$work/modules"
	for deb in "$@"; do
		# Each package holds a part, or none: tar fails on the patterns that match nothing.
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/kernel" --wildcards "${patterns[@]}" 2>/dev/null
	done
	vmlinuz=$(find "$work/kernel" -type f -name 'vmlinuz*' | head -n 1)
	[ -n "$vmlinuz" ] || die "no kernel image in $*"
	find "$work/kernel" \( -name '*.ko' -o -name '*.ko.xz' \) -exec mv {} "$work/modules/" \;
	for module in "$work"/modules/*.xz; do
		[ -e "$module" ] && xz -d "$module"
	done
	for module in $REJECT_MODULES; do
		[ -e "$work/modules/$module.ko" ] || continue
		# The modules it needs, from its .modinfo section: built-in ones are not named.
		for dep in $(tr '\0' '\n' <"$work/modules/$module.ko" | sed -n 's/^depends=//p' | tr , ' '); do
			[[ " $loaded " == *" $dep "* ]] || die "$module needs $dep, which is not loaded before it"
		done
		loaded+=${loaded:+ }$module
	done
	[ -n "$loaded" ] || die "no netfilter modules in $*"
	REJECT_MODULES=$loaded
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
