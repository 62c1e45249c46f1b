// The system OpenBLAS CBLAS interface (Debian: libopenblas-dev). cblas.h there also declares
// openblas_set_num_threads, which lets us keep OpenBLAS threading and our own row-splitting apart.
#include <cblas.h>
// glibc's mallopt, for the allocator policy beside the BLAS threading (Kernels/Parallel.swift).
#include <malloc.h>
