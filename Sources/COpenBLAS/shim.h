// OpenBLAS's CBLAS, on its own: GSL's gsl_cblas.h declares the same enums differently, so the two
// never share a module (shared/PLATFORM.md).
#include <cblas.h>

/// Stops OpenBLAS's worker threads (exported by libopenblas, which calls it itself before a fork;
/// not in cblas.h). A later multithreaded call would start them again.
int blas_thread_shutdown_(void);
