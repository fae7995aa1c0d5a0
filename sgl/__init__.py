"""sgl: the scatterlist world as the kernel has it today."""
