// Command o365-bench is the helper behind scripts/bench.sh (`make bench`): it generates the
// benchmark's tenant seed and Terraform configuration, runs and measures one CLI command
// against the emulated tenant (wall time, the tenant's request counters, the provider's peak
// RSS), measures the provider's startup, and writes BENCHMARKS.md from the recorded results.
//
//	o365-bench seed      -n N [-tenant K] -o seed.json         (K: the K-th of several tenants, one -seed each)
//	o365-bench config    -n N [-tenants K] -url URL -ca CA.pem -o main.tf   (N target connections in each of K tenants)
//	o365-bench config    -scenario outage -n N [-healthy H] -url URL -ca CA.pem -o main.tf   (N in the tenant whose sign-in fails, H in each other)
//	o365-bench rss       -o FILE -- PROGRAM ARGS...      (wraps the provider binary)
//	o365-bench measure   -info-file F -results R -cli C -n N -latency-ms L -cmd plan -log LOG [-rss FILE] [-expect-exit 0] -- PROGRAM ARGS...
//	o365-bench measure   -scenario outage [-healthy H] [-down-tenant K] (the flags above) -- PROGRAM ARGS...   (every tenant; K's sign-in answers 503 meanwhile)
//	o365-bench startup   -results R -bin PROVIDER [-cli C -cli-bin PATH -dir DIR] [-runs 5]
//	o365-bench profile   -results R -cli C -n N -runs K PROFILE...   (CPU profiles of the provider)
//	o365-bench report    -results R -gobench FILE -o BENCHMARKS.md
//
// It imports nothing from Terraform; the seed and counter types are the emulator's.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	args := os.Args[2:]
	switch os.Args[1] {
	case "seed":
		err = cmdSeed(args)
	case "config":
		err = cmdConfig(args)
	case "rss":
		err = cmdRSS(args)
	case "measure":
		err = cmdMeasure(args)
	case "startup":
		err = cmdStartup(args)
	case "profile":
		err = cmdProfile(args)
	case "report":
		err = cmdReport(args)
	default:
		usage()
	}
	if err != nil {
		var ec exitCode
		if asExit(err, &ec) {
			os.Exit(int(ec))
		}
		fmt.Fprintln(os.Stderr, "o365-bench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: o365-bench seed|config|rss|measure|startup|profile|report [flags]  (see scripts/bench.sh)")
	os.Exit(2)
}

// exitCode makes main exit with a given status without printing anything.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func asExit(err error, ec *exitCode) bool {
	e, ok := err.(exitCode)
	if ok {
		*ec = e
	}
	return ok
}

// exitBudget is measure's exit status when the command ran as expected but broke its request
// budget: the run is recorded, so scripts/bench.sh measures the rest, writes the report (which
// shows the broken terms) and fails at the end.
const exitBudget = 3
