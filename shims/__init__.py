"""shims: where the two worlds meet, by conversion at the boundary.

- :mod:`shims.extract`: iov_iter → scatterlist, ``extract_iter_to_sg``
  (lib/scatterlist.c) with the kernel's per-type rules.
- :mod:`shims.sg_iter`: scatterlist → ``ITER_BVEC`` over the same pages,
  zero-copy, and the AEAD helper that skips the AD.
- :mod:`shims.bridge`: each world's API served by the other world's
  drivers, registered as ``bridge(<driver>)`` at priority 0.

There is no scatterlist-backed iterator type: the worlds meet only here,
by conversion.
"""

from kmem.typecheck import check_exports as _check_exports
from shims.bridge import (
    bridge_driver_name,
    is_bridge,
    iter_to_sg_table,
    register_bridges,
    registered_bridges,
    release_sg_table,
    unregister_bridges,
)
from shims.extract import extract_iter_to_sg, iov_iter_extract_will_pin
from shims.sg_iter import (
    BvecArray,
    aead_iter_skip_ad,
    bvec_array_free,
    iov_iter_bvec_from_sg,
    sg_bvec_count,
    sg_to_bvec,
)

# Kernel names are checked for argument types at this boundary (kmem.typecheck).
_check_exports(globals(), __name__)
