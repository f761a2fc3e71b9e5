"""The stand-in host's precondition: no mount under a directory it overlays (the kernel refuses the overlay then, and
every bundle's run failed with mount's "wrong fs type" until the mount was named)."""

from __future__ import annotations

from tests.adversarial.sandbox import mounts_under_overlaid

MOUNTINFO = """\
27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
28 27 0:5 / /dev rw shared:2 - devtmpfs udev rw
29 27 0:30 / /tmp rw shared:3 - tmpfs tmpfs rw
30 27 0:31 / /run rw shared:4 - tmpfs tmpfs rw
45 27 254:0 /run/netns /run/netns rw,relatime shared:1 - ext4 /dev/vda rw
46 30 0:40 / /run/user/1000 rw shared:5 - tmpfs tmpfs rw
47 27 0:41 / /var/lib/docker/overlay2/abc/merged rw - overlay overlay rw
48 27 0:42 / /srv rw - ext4 /dev/vdb rw
49 27 0:43 / /opt/with\\040space rw - tmpfs tmpfs rw
50 27 0:44 / /etcetera/x rw - tmpfs tmpfs rw
"""


def test_mounts_under_an_overlaid_directory_are_named_and_the_directories_themselves_are_not() -> None:
    assert mounts_under_overlaid(MOUNTINFO) == ["/opt/with space", "/run/netns", "/run/user/1000",
                                                "/var/lib/docker/overlay2/abc/merged"]


def test_a_machine_with_only_its_own_mounts_passes() -> None:
    assert mounts_under_overlaid("27 1 254:0 / / rw - ext4 /dev/vda rw\n29 27 0:30 / /tmp rw - tmpfs tmpfs rw\n") == []
