__version__ = "0.1.0"

#: The kernel the model follows: the last release whose APIs it models, and
#: the linux-next state for what is newer (module docstrings say which
#: features come from there).
KERNEL_RELEASE = "Linux v7.3"
KERNEL_NEXT = ("linux-next next-20261007 for bvecq/ITER_BVECQ "
               "(appended as type 7 after v7.3's numbers)")
KERNEL_STATEMENT = f"models {KERNEL_RELEASE}; {KERNEL_NEXT}"
