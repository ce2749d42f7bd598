#!/bin/sh
# Copy busybox, the interpreter, its stdlib, pip and exactly the shared libraries they load
# into $1, which becomes the whole stand-in image.
set -eu
out=$1
mkdir -p "$out/bin" "$out/usr/bin" "$out/usr/local/bin" "$out/etc" "$out/root" "$out/tmp" "$out/var/tmp"
chmod 1777 "$out/tmp" "$out/var/tmp"

cp /bin/busybox "$out/bin/busybox"
for applet in $("$out/bin/busybox" --list); do
  # --list names busybox itself: linking it would overwrite the binary.
  [ "$applet" = busybox ] && continue
  [ -e "$out/bin/$applet" ] || ln -s busybox "$out/bin/$applet"
done

interpreter=$(readlink -f /usr/bin/python3)
version=$(basename "$interpreter")
cp "$interpreter" "$out/usr/bin/$version"
ln -s "$version" "$out/usr/bin/python3"
ln -s "$version" "$out/usr/bin/python"
cp -a --parents "/usr/lib/$version" /usr/lib/python3 /usr/share/python-wheels "$out"
rm -f "$out/usr/lib/$version/EXTERNALLY-MANAGED"
printf '#!/bin/sh\nexec python3 -m pip "$@"\n' > "$out/usr/bin/pip"
chmod 755 "$out/usr/bin/pip"
ln -s pip "$out/usr/bin/pip3"

# libstdc++ and libgomp: manylinux wheels (numpy, scipy, scikit-learn) expect them from the
# system; on real Alpine the musllinux wheels vendor their own copies. Shipping them here
# serves the stand-in's users the way real Alpine users are served.
extra=$(find /usr/lib /lib -name 'libstdc++.so.6' -o -name 'libgomp.so.1' -o -name 'libgcc_s.so.1' | sort -u)
# All of glibc's libraries, as any glibc system has them: manylinux wheels still link the
# pre-2.34 split (libpthread.so.0, libdl.so.2, librt.so.1), which ldd of python does not name.
glibc=$(dpkg -L libc6 | grep -E '/lib[^/]*\.so(\.[0-9]+)*$' | sort -u)
{
  ldd "$interpreter"
  find "/usr/lib/$version/lib-dynload" -name '*.so' -exec ldd {} \;
  for lib in $extra $glibc; do echo "x => $lib (0)"; done
  for lib in $extra; do ldd "$lib"; done
} | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u |
while read -r lib; do
  [ -e "$lib" ] && cp -L --parents "$lib" "$out"
done

printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$out/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$out/etc/group"
echo "dockerfile-bench stand-in for python-alpine: busybox + Debian python, glibc" > "$out/etc/standin-release"
