/* Start-up code of C programs: stack, .bss is already zero (the RAM is cleared before a run), call main,
 * report main's return value through tohost (0 -> 1 = pass, n -> (n << 1) | 1 = fail with code n). */
        .section .text.init, "ax", @progbits
        .globl _start
_start:
        la sp, _stack_top
        call main
        la t0, tohost
        slli a0, a0, 1
        ori a0, a0, 1
1:      sw a0, 0(t0)
        j 1b

        .section .tohost, "aw", @progbits
        .align 6
        .globl tohost
tohost: .word 0, 0
        .globl fromhost
fromhost: .word 0, 0
