package main

import (
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestGroupOf(t *testing.T) {
	for fn, want := range map[string]string{
		"github.com/o365-terraform/terraform-provider-o365/internal/exchange.(*Client).once":     "this project",
		"github.com/hashicorp/go-hclog.(*intLogger).logJSON":                                     "logging (terraform-plugin-log, go-hclog)",
		"github.com/hashicorp/terraform-plugin-framework/internal/reflect.isValidFieldName":      groupFramework,
		"google.golang.org/grpc.(*Server).handleStream":                                          groupFramework,
		"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public.Client.AcquireT": "Microsoft libraries (azidentity, MSAL)",
		"runtime.mallocgc":                                       groupRuntime,
		"internal/runtime/maps.(*Map).getWithKey":                groupRuntime,
		"encoding/json.(*decodeState).object":                    groupStdlib,
		"crypto/tls.(*Conn).Read":                                groupStdlib,
		"golang.org/x/net/http2.(*Framer).ReadFrame":             groupStdlib,
		"github.com/vmihailenco/msgpack/v5.(*Decoder).DecodeMap": groupOther,
		"main.main": groupFramework,
	} {
		if got := groupOf(fn); got != want {
			t.Errorf("groupOf(%q) = %q, want %q", fn, got, want)
		}
	}
}

// spinForProfile burns d of this process's CPU time (not wall time: on a loaded machine a
// wall-clock spin gets too few samples), giving up after 20 s of wall time.
//
//go:noinline
func spinForProfile(d time.Duration) int {
	n := 0
	start, wall := cpuTime(), time.Now()
	for cpuTime()-start < d && time.Since(wall) < 20*time.Second {
		for i := 0; i < 100000; i++ {
			n += i % 7
		}
	}
	return n
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestSummarizeReadsARealProfile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cpu.pprof")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Skip("CPU profiling unavailable:", err)
	}
	spinForProfile(300 * time.Millisecond)
	pprof.StopCPUProfile()
	_ = f.Close()

	s, err := summarize([]string{p})
	if err != nil {
		t.Fatal(err)
	}
	if s.Files != 1 || s.Samples < 5 || s.CPUS < 0.05 || s.CPUS > 5 {
		t.Fatalf("implausible summary of a 300 ms spin: %+v", s)
	}
	var groups float64
	for _, v := range s.ByGroup {
		groups += v
	}
	if d := groups - s.CPUS; d > 1e-9 || d < -1e-9 {
		t.Fatalf("the groups sum to %.3f s, the samples to %.3f s", groups, s.CPUS)
	}
	// The spin is this project's code (a test binary names the package by its import path).
	if s.ByGroup["this project"] < s.CPUS/2 || len(s.ProjectSelf) == 0 || !strings.HasSuffix(s.ProjectSelf[0].Func, ".spinForProfile") {
		t.Fatalf("the spin should carry most samples, as this project: %+v %+v", s.ByGroup, s.ProjectSelf)
	}

	if _, err := readProfile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("want an error for a missing profile")
	}
	empty := filepath.Join(t.TempDir(), "empty.pprof")
	_ = os.WriteFile(empty, nil, 0o600)
	if _, err := readProfile(empty); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("want an error naming an empty profile, got %v", err)
	}
}
