# A Debian base from a debootstrap root filesystem: the same recipe as Docker Hub's
# debian images (FROM scratch + ADD of a rootfs tarball), built from Debian packages.
FROM scratch
ADD rootfs.tar /
ENV LANG=C.UTF-8
CMD ["bash"]
