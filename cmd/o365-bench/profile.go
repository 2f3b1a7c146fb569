package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// The CPU profiles of the provider processes (cmd/o365-provider-pprof) of the profiled
// no-change plans, summarised into one "profile" record of the results: how the provider's
// CPU time splits between the plugin framework, logging, this project's code, the Microsoft
// libraries, and Go's runtime and standard library.

// profileGroups classify a stack frame by its function's package path, first match wins.
var profileGroups = []struct{ name, prefix string }{
	{"this project", "github.com/o365-terraform/terraform-provider-o365/"},
	{"logging (terraform-plugin-log, go-hclog)", "github.com/hashicorp/terraform-plugin-log/"},
	{"logging (terraform-plugin-log, go-hclog)", "github.com/hashicorp/go-hclog"},
	{groupFramework, "github.com/hashicorp/terraform-plugin-framework"},
	{groupFramework, "github.com/hashicorp/terraform-plugin-go/"},
	{groupFramework, "github.com/hashicorp/go-plugin"},
	{groupFramework, "google.golang.org/grpc"},
	{groupFramework, "google.golang.org/protobuf/"},
	{"Microsoft libraries (azidentity, MSAL)", "github.com/Azure/azure-sdk-for-go/"},
	{"Microsoft libraries (azidentity, MSAL)", "github.com/AzureAD/microsoft-authentication-library-for-go/"},
}

const (
	groupRuntime   = "Go runtime alone (GC, scheduler, idle)"
	groupStdlib    = "Go standard library alone (HTTP, TLS, goroutines started there)"
	groupOther     = "other modules"
	groupFramework = "plugin framework and protocol (terraform-plugin-framework/-go, go-plugin, gRPC, protobuf)"
)

// groupOf is the group of a function name ("pkg/path.Func", "pkg/path.(*T).M").
func groupOf(fn string) string {
	for _, g := range profileGroups {
		if strings.HasPrefix(fn, g.prefix) {
			return g.name
		}
	}
	slash := strings.LastIndexByte(fn, '/')
	pkg := fn
	if dot := strings.IndexByte(fn[slash+1:], '.'); dot >= 0 {
		pkg = fn[:slash+1+dot]
	}
	first, _, _ := strings.Cut(pkg, "/")
	switch {
	case pkg == "main": // the wrapper's main, which only calls providerserver.Serve
		return groupFramework
	case pkg == "runtime" || strings.HasPrefix(pkg, "runtime/") || strings.HasPrefix(pkg, "internal/runtime/"):
		return groupRuntime
	case strings.HasPrefix(pkg, "golang.org/x/"): // maintained with the standard library
		return groupStdlib
	case strings.Contains(first, "."): // a module path; the standard library's have no dot
		return groupOther
	}
	return groupStdlib
}

// profileSummary is what the report renders.
type profileSummary struct {
	Files   int     `json:"files"`
	Samples int64   `json:"samples"`
	CPUS    float64 `json:"cpu_s"`
	// Attributed: each sample to the group of its innermost frame outside Go's runtime and
	// standard library (so JSON encoding inside a logger counts as logging, and TLS under
	// this project's HTTP call as this project); samples with no such frame to the runtime or
	// the standard library.
	ByGroup map[string]float64 `json:"by_group_s"`
	// Flat: each sample to the group of its innermost frame (where the CPU really ran).
	FlatByGroup map[string]float64 `json:"flat_by_group_s"`
	// This project's functions by cumulative time (on the stack at all), and by the time
	// attributed to them (innermost project frame of the samples attributed to the project).
	ProjectCum  []fnTime `json:"project_cum"`
	ProjectSelf []fnTime `json:"project_attributed"`
	// The innermost frames of the samples attributed to this project, by package group, and
	// the logging calls' callers.
	ProjectLeafGroups map[string]float64 `json:"project_leaf_groups_s"`
	LoggingCallers    []fnTime           `json:"logging_callers"`
}

type fnTime struct {
	Func string  `json:"func"`
	S    float64 `json:"s"`
}

func cmdProfile(args []string) error {
	fs := flag.NewFlagSet("profile", flag.ExitOnError)
	results := fs.String("results", "", "results file (JSON lines) to append the summary to")
	cli := fs.String("cli", "", "CLI name")
	n := fs.Int("n", 0, "connections in the configuration")
	runs := fs.Int("runs", 0, "profiled plans")
	_ = fs.Parse(args)
	if fs.NArg() == 0 || *results == "" {
		return errors.New("profile: -results R -cli C -n N -runs K PROFILE")
	}
	sum, err := summarize(fs.Args())
	if err != nil {
		return err
	}
	rec := record{Kind: "profile", CLI: *cli, N: *n, Runs: *runs, Profile: sum}
	fmt.Fprintf(os.Stderr, "    profile: %d files, %d samples, %.2f s CPU\n", sum.Files, sum.Samples, sum.CPUS)
	return appendRecord(*results, rec)
}

func summarize(files []string) (*profileSummary, error) {
	s := &profileSummary{ByGroup: map[string]float64{}, FlatByGroup: map[string]float64{}, ProjectLeafGroups: map[string]float64{}}
	cum, self, logCallers := map[string]float64{}, map[string]float64{}, map[string]float64{}
	for _, f := range files {
		p, err := readProfile(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		s.Files++
		for _, smp := range p.samples {
			sec := float64(smp.cpuNS) / 1e9
			s.Samples++
			s.CPUS += sec
			if len(smp.stack) == 0 {
				continue
			}
			s.FlatByGroup[groupOf(smp.stack[0])] += sec
			attributed, at := "", -1
			for i, fn := range smp.stack {
				if g := groupOf(fn); g != groupRuntime && g != groupStdlib {
					attributed, at = g, i
					break
				}
			}
			if attributed == "" {
				// By the goroutine's own entry point (its outermost frame but runtime.goexit,
				// which ends every goroutine's stack): e.g. a GC worker or net/http's readLoop.
				attributed = groupRuntime
				for i := len(smp.stack) - 1; i >= 0; i-- {
					if smp.stack[i] != "runtime.goexit" {
						attributed = groupOf(smp.stack[i])
						break
					}
				}
			}
			s.ByGroup[attributed] += sec
			seen := map[string]bool{}
			for _, fn := range smp.stack {
				if groupOf(fn) == profileGroups[0].name && !seen[fn] {
					seen[fn] = true
					cum[fn] += sec
				}
			}
			switch {
			case at >= 0 && attributed == profileGroups[0].name:
				self[smp.stack[at]] += sec
				s.ProjectLeafGroups[groupOf(smp.stack[0])] += sec
			case at >= 0 && strings.HasPrefix(attributed, "logging"):
				// Who called the logger: the first frame outside logging, runtime and stdlib.
				for _, fn := range smp.stack[at:] {
					if g := groupOf(fn); !strings.HasPrefix(g, "logging") && g != groupRuntime && g != groupStdlib {
						logCallers[fn] += sec
						break
					}
				}
			}
		}
	}
	s.ProjectCum, s.ProjectSelf, s.LoggingCallers = top(cum, 12), top(self, 12), top(logCallers, 8)
	return s, nil
}

func top(m map[string]float64, k int) []fnTime {
	out := make([]fnTime, 0, len(m))
	for f, v := range m {
		out = append(out, fnTime{f, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].S != out[j].S {
			return out[i].S > out[j].S
		}
		return out[i].Func < out[j].Func
	})
	if len(out) > k {
		out = out[:k]
	}
	return out
}

// A minimal reader of the pprof format (github.com/google/pprof/proto/profile.proto, gzipped):
// only what the summary needs, read with protowire rather than a new dependency.

type sample struct {
	stack []string // function names, innermost first (inlined frames expanded)
	cpuNS int64
}

type parsedProfile struct{ samples []sample }

func readProfile(path string) (*parsedProfile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, errors.New("empty profile (the process was killed before it flushed it?)")
	}
	if bytes.HasPrefix(raw, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return nil, err
		}
	}
	type rawSample struct {
		locs   []uint64
		values []int64
	}
	var (
		samples    []rawSample
		valueTypes [][2]int64 // type, unit (string indexes)
		locFuncs   = map[uint64][]uint64{}
		funcName   = map[uint64]int64{}
		strs       []string
	)
	err = fields(raw, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1: // sample_type
			var vt [2]int64
			err := fields(v, func(n protowire.Number, _ protowire.Type, _ []byte, x uint64) error {
				if n == 1 || n == 2 {
					vt[n-1] = int64(x)
				}
				return nil
			})
			valueTypes = append(valueTypes, vt)
			return err
		case 2: // sample
			var rs rawSample
			err := fields(v, func(n protowire.Number, t protowire.Type, b []byte, x uint64) error {
				switch n {
				case 1:
					return varints(t, b, x, func(u uint64) { rs.locs = append(rs.locs, u) })
				case 2:
					return varints(t, b, x, func(u uint64) { rs.values = append(rs.values, int64(u)) })
				}
				return nil
			})
			samples = append(samples, rs)
			return err
		case 4: // location
			var id uint64
			var fnIDs []uint64
			err := fields(v, func(n protowire.Number, _ protowire.Type, b []byte, x uint64) error {
				switch n {
				case 1:
					id = x
				case 4: // line
					return fields(b, func(n protowire.Number, _ protowire.Type, _ []byte, x uint64) error {
						if n == 1 {
							fnIDs = append(fnIDs, x)
						}
						return nil
					})
				}
				return nil
			})
			locFuncs[id] = fnIDs
			return err
		case 5: // function
			var id uint64
			var name int64
			err := fields(v, func(n protowire.Number, _ protowire.Type, _ []byte, x uint64) error {
				switch n {
				case 1:
					id = x
				case 2:
					name = int64(x)
				}
				return nil
			})
			funcName[id] = name
			return err
		case 6: // string_table
			strs = append(strs, string(v))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	str := func(i int64) string {
		if i >= 0 && int(i) < len(strs) {
			return strs[i]
		}
		return ""
	}
	cpu := -1
	for i, vt := range valueTypes {
		if str(vt[0]) == "cpu" && str(vt[1]) == "nanoseconds" {
			cpu = i
		}
	}
	if cpu < 0 {
		return nil, errors.New("not a CPU profile (no cpu/nanoseconds sample type)")
	}
	p := &parsedProfile{}
	for _, rs := range samples {
		if cpu >= len(rs.values) {
			continue
		}
		smp := sample{cpuNS: rs.values[cpu]}
		for _, l := range rs.locs {
			for _, f := range locFuncs[l] { // a location's lines: innermost inlined function first
				smp.stack = append(smp.stack, str(funcName[f]))
			}
		}
		p.samples = append(p.samples, smp)
	}
	return p, nil
}

// fields calls fn for each field of a protobuf message: v is the payload of a length-delimited
// field, x the value of a varint one.
func fields(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

// varints reads a repeated integer field, packed (bytes) or not (one varint).
func varints(typ protowire.Type, b []byte, x uint64, add func(uint64)) error {
	if typ == protowire.VarintType {
		add(x)
		return nil
	}
	for len(b) > 0 {
		u, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		add(u)
		b = b[n:]
	}
	return nil
}
