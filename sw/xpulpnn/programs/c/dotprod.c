/* A C program using the custom-instruction macros: an int8 dot product three ways (plain C, pv.sdotsp.b,
 * post-increment loads + pv.sdotsp.b), the cycle counter, and an exit code through tohost (0 = pass). */
#include <stdint.h>
#include "xpulpnn_insn.h"

#define N 64
static int8_t a[N], b[N];
volatile uint32_t cycles[3];

int main(void)
{
    for (int i = 0; i < N; i++) {
        a[i] = (int8_t)(i * 7 - 100);
        b[i] = (int8_t)(50 - i * 3);
    }
    uint32_t t0 = READ_CSR(mcycle);
    int32_t ref = 0;
    for (int i = 0; i < N; i++)
        ref += a[i] * b[i];
    uint32_t t1 = READ_CSR(mcycle);
    int32_t simd = 0;
    const uint32_t *pa = (const uint32_t *)a, *pb = (const uint32_t *)b;
    for (int i = 0; i < N / 4; i++)
        PV_SDOTSP_B(simd, pa[i], pb[i]);
    uint32_t t2 = READ_CSR(mcycle);
    int32_t post = 0;
    const uint32_t *qa = (const uint32_t *)a, *qb = (const uint32_t *)b;
    for (int i = 0; i < N / 4; i++) {
        uint32_t x, y;
        P_LW(x, qa, 4);
        P_LW(y, qb, 4);
        PV_SDOTSP_B(post, x, y);
    }
    cycles[0] = t1 - t0;
    cycles[1] = t2 - t1;
    cycles[2] = READ_CSR(mcycle) - t2;
    if (simd != ref)
        return 1;
    if (post != ref)
        return 2;
    return 0;
}
