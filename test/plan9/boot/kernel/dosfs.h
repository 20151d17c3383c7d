/*
 * plan9vm stand-in for /sys/src/boot/pc/dosfs.h, which the kernel
 * source kit lacks: what boot/parts.c uses of it, an MBR partition
 * entry and the partition types.
 */
typedef struct Dospart Dospart;
struct Dospart {
	uchar	flag;
	uchar	shead;
	uchar	scs[2];
	uchar	type;
	uchar	ehead;
	uchar	ecs[2];
	uchar	start[4];
	uchar	len[4];
};

enum {
	FAT12 = 0x01,
	FAT16 = 0x04,
	EXTEND = 0x05,
	FATHUGE = 0x06,
	FAT32 = 0x0b,
	FAT32X = 0x0c,
	EXTHUGE = 0x0f,
	PLAN9 = 0x39,
	DMDDO = 0x54,
	LEXTEND = 0x85,
};
