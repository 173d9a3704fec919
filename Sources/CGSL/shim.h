// GSL's ODE solvers for Swift. Only GSLIntegrators imports this module.
#ifndef SDEKIT_CGSL_SHIM_H
#define SDEKIT_CGSL_SHIM_H

#include <math.h>
#include <stdlib.h>
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

// An error control with the RMS norm (Hairer's DOPRI5, SciPy, diffrax) in place of the standard
// control's maximum over components; otherwise the rule of GSL's manual for the standard control:
// with D_i = eps_abs + eps_rel (a_y |y_i| + a_dydt |h y'_i|) and E = √(mean_i (err_i / D_i)²),
// shrink h by S·E^(−1/q) (at least ×0.2) when E > 1.1, grow it by S·E^(−1/(q+1)) (between ×1 and
// ×5) when E < 0.5, with S = 0.9 and q the method's order.
typedef struct {
  double eps_abs, eps_rel, a_y, a_dydt;
} sdekit_rms_control_state;

static void *sdekit_rms_control_alloc(void) { return calloc(1, sizeof(sdekit_rms_control_state)); }

static int sdekit_rms_control_init(void *state, double eps_abs, double eps_rel, double a_y, double a_dydt) {
  if (eps_abs < 0 || eps_rel < 0 || a_y < 0 || a_dydt < 0) return GSL_EINVAL;
  sdekit_rms_control_state *s = (sdekit_rms_control_state *)state;
  s->eps_abs = eps_abs;
  s->eps_rel = eps_rel;
  s->a_y = a_y;
  s->a_dydt = a_dydt;
  return GSL_SUCCESS;
}

static double sdekit_rms_control_level(const sdekit_rms_control_state *s, double y, double dydt, double h) {
  return s->eps_abs + s->eps_rel * (s->a_y * fabs(y) + s->a_dydt * fabs(h * dydt));
}

static int sdekit_rms_control_hadjust(void *state, size_t dim, unsigned int ord, const double y[],
                                      const double yerr[], const double yp[], double *h) {
  const sdekit_rms_control_state *s = (const sdekit_rms_control_state *)state;
  const double safety = 0.9, h_old = *h;
  double sum = 0;
  for (size_t i = 0; i < dim; i++) {
    const double ratio = fabs(yerr[i]) / sdekit_rms_control_level(s, y[i], yp[i], h_old);
    sum += ratio * ratio;
  }
  const double error = dim > 0 ? sqrt(sum / (double)dim) : 0;
  if (error > 1.1) {
    const double factor = safety / pow(error, 1.0 / ord);
    *h = h_old * (factor < 0.2 ? 0.2 : factor);
    return GSL_ODEIV_HADJ_DEC;
  }
  if (error < 0.5) {
    double factor = safety / pow(error, 1.0 / (ord + 1.0));
    if (factor > 5) factor = 5;
    if (factor < 1) factor = 1;
    *h = h_old * factor;
    return GSL_ODEIV_HADJ_INC;
  }
  return GSL_ODEIV_HADJ_NIL;
}

static int sdekit_rms_control_errlevel(void *state, const double y, const double dydt, const double h,
                                       const size_t index, double *level) {
  (void)index;
  *level = sdekit_rms_control_level((const sdekit_rms_control_state *)state, y, dydt, h);
  return *level > 0 ? GSL_SUCCESS : GSL_ESANITY;
}

static int sdekit_rms_control_set_driver(void *state, const gsl_odeiv2_driver *driver) {
  (void)state;
  (void)driver;
  return GSL_SUCCESS;
}

static void sdekit_rms_control_free(void *state) { free(state); }

// Replaces the driver's control with the RMS control (same tolerances and scales).
static inline int sdekit_gsl_driver_use_rms_control(gsl_odeiv2_driver *driver, double eps_abs, double eps_rel,
                                                    double a_y, double a_dydt) {
  static const gsl_odeiv2_control_type rms = {
    "sdekit-rms", sdekit_rms_control_alloc, sdekit_rms_control_init, sdekit_rms_control_hadjust,
    sdekit_rms_control_errlevel, sdekit_rms_control_set_driver, sdekit_rms_control_free};
  gsl_odeiv2_control *control = gsl_odeiv2_control_alloc(&rms);
  if (control == NULL) return GSL_ENOMEM;
  int status = gsl_odeiv2_control_init(control, eps_abs, eps_rel, a_y, a_dydt);
  if (status == GSL_SUCCESS) status = gsl_odeiv2_control_set_driver(control, driver);
  if (status != GSL_SUCCESS) {
    gsl_odeiv2_control_free(control);
    return status;
  }
  gsl_odeiv2_control_free(driver->c);
  driver->c = control;
  return GSL_SUCCESS;
}

#endif
