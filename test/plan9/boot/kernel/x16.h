/*
 * plan9vm stand-in for /sys/src/boot/pc/x16.h, which the kernel source
 * kit lacks: what pc/l.s's real-mode trampoline uses to write 16-bit
 * instructions 8a cannot, as bytes.
 *	LWI(i, r)	MOV $i, r (16 bits)
 *	LXW(o, x, r)	MOV o(x), r
 *	SXW(r, o, x)	MOV r, o(x)
 * with 16-bit addressing (x is xBP: o(BP), 16-bit displacement);
 * OPSIZE before one makes it a 32-bit move.
 */
#define rAX	0
#define rCX	1
#define rDX	2
#define rBX	3
#define rSP	4
#define rBP	5
#define rSI	6
#define rDI	7

#define xBP	6

#define OPSIZE		BYTE $0x66
#define DELAY		BYTE $0xEB; BYTE $0x00
#define LWI(i, r)	BYTE $(0xB8+(r)); WORD $(i)
#define LXW(o, x, r)	BYTE $0x8B; BYTE $(0x80|((r)<<3)|(x)); WORD $(o)
#define SXW(r, o, x)	BYTE $0x89; BYTE $(0x80|((r)<<3)|(x)); WORD $(o)
