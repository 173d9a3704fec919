// OpenBLAS's CBLAS, on its own: GSL's gsl_cblas.h declares the same enums differently, so the two
// never share a module (shared/PLATFORM.md).
#include <cblas.h>
