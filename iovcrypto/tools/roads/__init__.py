"""Callers on the roads upstream takes off scatterlists (not drivers).

The model's request APIs are the drivers' side.  This package holds the
*caller's* side of the road synchronous software users actually took in
2026: walk the iov_iter you hold yourself and feed a lib/crypto library
(:mod:`.lib_aead`, modelled on the SMB client's AES-GCM/CCM conversion in
Eric Biggers' AES-modes series).  A caller here imports the iov_iter world
and ``ciphers`` only, never the scatterlist world (an import-linter
contract says so).

Which road needs which kernel (see also ``iovcrypto --version``):

========================  ==================================================
road                      kernel
========================  ==================================================
a: extract + sg API       v6.5+ (``extract_iter_to_sg``; netfs had it as
                          ``netfs_extract_iter_to_sg`` from v6.3); the road SMB,
                          AF_ALG and ceph used until 2026
c: iov_iter request API   none: this project's proposal
f: library road           v7.3 (lib/crypto AES-GCM/CCM incremental API,
                          Biggers' series, in linux-next 2026-08-18) with
                          ``iterate_and_advance_kernel()`` (v6.12+)
========================  ==================================================
"""

ROAD_KERNELS = {
    "a:extract": "v6.5+ (extract_iter_to_sg)",
    "b:sg": "all",
    "c:iter": "proposed (not upstream)",
    "d:sg>it": "proposed (bridge)",
    "e:it>sg": "proposed (bridge)",
    "f:lib": "v7.3 (lib/crypto AES-GCM/CCM, linux-next 2026-08-18)",
}
