/*
 * plan9vm stand-in for /sys/src/libmach/elf.h, which the kernel source
 * kit lacks: the ELF headers port/rebootcmd.c reads (ELF spec layout).
 */
enum {
	MAG0 = 0,
	CLASS = 4,
	ELFCLASS32 = 1,
	ELFCLASS64 = 2,
};

typedef struct Ehdr Ehdr;
struct Ehdr {
	uchar	ident[16];
	ushort	type;
	ushort	machine;
	ulong	version;
	ulong	elfentry;
	ulong	phoff;
	ulong	shoff;
	ulong	flags;
	ushort	ehsize;
	ushort	phentsize;
	ushort	phnum;
	ushort	shentsize;
	ushort	shnum;
	ushort	shstrndx;
};

typedef struct Phdr Phdr;
struct Phdr {
	ulong	type;
	ulong	offset;
	ulong	vaddr;
	ulong	paddr;
	ulong	filesz;
	ulong	memsz;
	ulong	flags;
	ulong	align;
};

typedef struct E64hdr E64hdr;
struct E64hdr {
	uchar	ident[16];
	ushort	type;
	ushort	machine;
	ulong	version;
	uvlong	elfentry;
	uvlong	phoff;
	uvlong	shoff;
	ulong	flags;
	ushort	ehsize;
	ushort	phentsize;
	ushort	phnum;
	ushort	shentsize;
	ushort	shnum;
	ushort	shstrndx;
};

typedef struct P64hdr P64hdr;
struct P64hdr {
	ulong	type;
	ulong	flags;
	uvlong	offset;
	uvlong	vaddr;
	uvlong	paddr;
	uvlong	filesz;
	uvlong	memsz;
	uvlong	align;
};
