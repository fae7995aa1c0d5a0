"""``iovcrypto conformance``: crypto/testmgr.c for both worlds (DESIGN §9).

- :mod:`.configs` — testvec configurations: the nine defaults, random ones
- :mod:`.buffers` — a configuration realised as scatterlists and as every
  iov_iter type over every memory kind, with poison and overrun detection
- :mod:`.refs` — the kernel algorithms computed by the reference libraries
- :mod:`.vectors` — built-in, corpus and random test vectors
- :mod:`.runner` — one vector × configuration × API, and one driver's suite
- :mod:`.fuzz` — accelerated drivers against their generic twins
- :mod:`.session` — selecting drivers, seeds, parallel workers
- :mod:`.report` — text, KTAP and JSON (schema documented there)
- :mod:`.command` — the click command

Importing this package loads both worlds (and their drivers).
"""
