"""``iovcrypto conformance``: crypto/testmgr.c for both worlds (DESIGN §9).

- :mod:`.configs` — testvec configurations: the nine defaults, random ones
- :mod:`.buffers` — a configuration realised as scatterlists and as every
  iov_iter type over every memory kind, with poison and overrun detection
- :mod:`.refs` — the kernel algorithms computed by the reference libraries
- :mod:`.vectors` — built-in, corpus and random test vectors
- :mod:`.bvecq_layout` — the ITER_BVECQ realisation and its position oracle
- :mod:`.discard` — ITER_DISCARD as dst
- :mod:`.keyiv` — key and IV buffers in kmalloc, vmalloc and stack memory
- :mod:`.vec_cfg` — one vector × configuration × API and its checks
- :mod:`.runner` — one driver's suite
- :mod:`.passes` — what a suite runs after its vectors: a large request,
  the fault configurations (:mod:`.faults`), DISCARD dst, async reuse
- :mod:`.reuse` — one request resubmitted from its own completion
- :mod:`.fuzz` — accelerated drivers against their generic twins
- :mod:`.session` — selecting drivers, seeds, parallel workers
- :mod:`.report` — text, KTAP and JSON (schema documented there)
- :mod:`.command` — the click command

Importing this package loads both worlds (and their drivers).
"""
