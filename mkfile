# Build, install and test with Plan 9's mk or the mk of 9base/plan9port.
#
#	mk all		cross-build every command for Plan 9 on $objtype (386, amd64, arm)
#	mk install	copy the built commands into /$objtype/bin/venti, /$objtype/bin/fossil
#			and the rc scripts into /rc/bin (ROOT=dir installs below dir)
#	mk host		build every command for this machine into bin/host
#	mk test		run every test (go test ./...)
#	mk bench	run the benchmarks and write docs/bench/report.md and chart.png
#			(BENCHFLAGS=-quick for a short check; -cpuprofile dir for profiles)
#	mk clean	remove bin
#
# mk install needs no Go: on a Plan 9 machine without a Go toolchain, copy
# in the bin/$objtype tree built elsewhere with mk all, then mk install.

MKSHELL=rc
objtype=`{if(~ $objtype '') echo 386; if not echo $objtype}
ROOT=

# The commands, by their Plan 9 names; each is built from the folder of
# the same name, but fossil/fossil, the server, from fossil/, and
# fossil/con from fossil/cons (Go refuses a package folder named con).
CMDS=\
	venti/venti venti/read venti/write venti/copy\
	venti/fmtarenas venti/fmtisect venti/fmtindex venti/fmtbloom venti/conf\
	venti/buildindex venti/checkarenas venti/checkindex\
	venti/rdarena venti/wrarena venti/printarena venti/printarenapart\
	fossil/fossil fossil/con fossil/last fossil/flfmt
# The rc scripts in rc/, installed in /rc/bin.
RCSCRIPTS=foshalt fossilize fosreset fossilstart ventiprog fossilconf venticonf

all:V:
	for(c in $CMDS) GOOS=plan9 GOARCH=$objtype go build -o bin/$objtype/$c ./`{echo $c | sed 's,^fossil/fossil$,fossil,; s,^fossil/con$,fossil/cons,'}

host:V:
	for(c in $CMDS) go build -o bin/host/$c ./`{echo $c | sed 's,^fossil/fossil$,fossil,; s,^fossil/con$,fossil/cons,'}

# $"ROOT, not $ROOT: Plan 9's mk hands rc an empty ROOT as an empty
# list, which rc refuses to concatenate ("null list in concatenation").
install:V:
	for(c in $CMDS) if(! test -f bin/$objtype/$c){
		echo 'mk install: no bin/'$objtype/$c': run mk all first' >[1=2]
		exit missing
	}
	mkdir -p $"ROOT/$objtype/bin/venti $"ROOT/$objtype/bin/fossil $"ROOT/rc/bin
	for(c in $CMDS) cp bin/$objtype/$c $"ROOT/$objtype/bin/$c
	for(c in $RCSCRIPTS) if(! ~ $c '') cp rc/$c $"ROOT/rc/bin/$c
	status=''

test:V:
	go test ./...

bench:V:
	go run ./internal/bench -o docs/bench $BENCHFLAGS

clean:V:
	rm -rf bin
