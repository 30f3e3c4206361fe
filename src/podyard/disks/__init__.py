"""The disk part, beside the runtime: cloud disks as real block devices on the host. A
btrfs pool per podyard instance (a sparse image on a loop device) holds every disk's
sparse image; a disk is a loop device over its image, formatted (xfs or ext4), mounted
by podyard and bind-mounted into pods by the runtime; snapshots are reflink copies in the
pool. control/ calls it; nothing above control/ knows loop devices exist."""
