"""ciphers: layout-agnostic, incremental cipher cores on contiguous buffers
(the kernel's lib/crypto), shared by both worlds."""
