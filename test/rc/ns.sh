#!/bin/sh
# ns.sh root fat srv dir cmd...: run cmd, in directory dir, in a Plan 9
# like view of this machine: the file tree of /, with the directory fat
# mounted on /n/9fat (none if fat is empty) and srv on /srv. Run it
# under unshare -rm: the mounts are made in a private mount namespace,
# on mount points under root, a directory of the caller's, and cmd runs
# chrooted there. Nothing outside root changes.
set -e
path0=$PATH
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
root=$1 fat=$2 srv=$3 dir=$4
shift 4
mkdir -p "$root"
for e in /* /.[!.]*; do
	[ -e "$e" ] || [ -L "$e" ] || continue
	n=${e#/}
	case $n in n|srv) continue;; esac
	if [ -L "$e" ]; then
		[ -L "$root/$n" ] || cp -P "$e" "$root/$n"
	elif [ -d "$e" ]; then
		mkdir -p "$root/$n"
		mount --rbind "$e" "$root/$n"
	else
		[ -e "$root/$n" ] || : >"$root/$n"
		mount --bind "$e" "$root/$n"
	fi
done
mkdir -p "$root/n/9fat" "$root/srv"
[ -z "$fat" ] || mount --bind "$fat" "$root/n/9fat"
mount --bind "$srv" "$root/srv"
exec chroot "$root" /usr/bin/env PATH="$path0" /bin/sh -c 'cd "$0" && exec "$@"' "$dir" "$@"
