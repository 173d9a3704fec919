// GSL's ODE solvers for Swift. Only GSLIntegrators imports this module.
#ifndef SDEKIT_CGSL_SHIM_H
#define SDEKIT_CGSL_SHIM_H

#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>

// GSL's step types are mutable C globals, which Swift 6 refuses to read ("not
// concurrency-safe"); these accessors return the same pointers.
static inline const gsl_odeiv2_step_type *sdekit_gsl_step_rk2(void) { return gsl_odeiv2_step_rk2; }
static inline const gsl_odeiv2_step_type *sdekit_gsl_step_rk4(void) { return gsl_odeiv2_step_rk4; }
static inline const gsl_odeiv2_step_type *sdekit_gsl_step_rkf45(void) { return gsl_odeiv2_step_rkf45; }
static inline const gsl_odeiv2_step_type *sdekit_gsl_step_rkck(void) { return gsl_odeiv2_step_rkck; }
static inline const gsl_odeiv2_step_type *sdekit_gsl_step_rk8pd(void) { return gsl_odeiv2_step_rk8pd; }
static inline const gsl_odeiv2_step_type *sdekit_gsl_step_rk1imp(void) { return gsl_odeiv2_step_rk1imp; }
static inline const gsl_odeiv2_step_type *sdekit_gsl_step_rk2imp(void) { return gsl_odeiv2_step_rk2imp; }
static inline const gsl_odeiv2_step_type *sdekit_gsl_step_rk4imp(void) { return gsl_odeiv2_step_rk4imp; }
static inline const gsl_odeiv2_step_type *sdekit_gsl_step_bsimp(void) { return gsl_odeiv2_step_bsimp; }
static inline const gsl_odeiv2_step_type *sdekit_gsl_step_msadams(void) { return gsl_odeiv2_step_msadams; }
static inline const gsl_odeiv2_step_type *sdekit_gsl_step_msbdf(void) { return gsl_odeiv2_step_msbdf; }

#endif
