/* The per-element network arithmetic of sf_lif_math.h instantiated in
 * float64, with an _f64 suffix (sf_lif_forward_f64, ...): the reference
 * against which gradient tests run central finite differences. */
#ifndef SF_LIF_MATH_F64_H
#define SF_LIF_MATH_F64_H

#include "models/sf_lif_math.h"

#define SF_LM_T double
#define SF_LM_FN(n) n##_f64
#define SF_LM_EXP exp
#define SF_LM_ABS fabs
#define SF_LM_TANH tanh
#include "models/sf_lif_math.inc"
#undef SF_LM_T
#undef SF_LM_FN
#undef SF_LM_EXP
#undef SF_LM_ABS
#undef SF_LM_TANH

#endif
