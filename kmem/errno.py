"""Linux errno numbers (include/uapi/asm-generic/errno-base.h, errno.h).

Functions of the model return these negated, as the kernel does
(``return -EINVAL``).  ``KernelBug`` stands for a ``BUG()``: the kernel would
stop, the model raises.
"""

EPERM = 1
ENOENT = 2
EIO = 5
E2BIG = 7
EBADF = 9
EAGAIN = 11
ENOMEM = 12
EFAULT = 14
EBUSY = 16
EEXIST = 17
EINVAL = 22
ENOSPC = 28
ERANGE = 34
EDEADLK = 35
ENAMETOOLONG = 36
ENOSYS = 38
EBADMSG = 74
EOVERFLOW = 75
EMSGSIZE = 90
EOPNOTSUPP = 95
ETIMEDOUT = 110
EINPROGRESS = 115
ECANCELED = 125
ENOKEY = 126
EREMOTEIO = 121
EKEYREJECTED = 129

_NAMES = {v: k for k, v in dict(globals()).items() if k.startswith("E") and isinstance(v, int)}


def errname(err: int) -> str:
    """``-22`` -> ``"-EINVAL"``; a readable name for an errno return value."""
    name = _NAMES.get(abs(err))
    if name is None:
        return str(err)
    return f"-{name}" if err < 0 else name


class KernelBug(Exception):
    """Raised where the kernel would hit ``BUG()`` / ``BUG_ON()``."""


def IS_ERR_VALUE(x: int) -> bool:
    """True for a negative errno return (the kernel's -MAX_ERRNO..-1 range)."""
    return -4095 <= x < 0
