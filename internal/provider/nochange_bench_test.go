package provider

// The provider's share of a no-change plan, one connection at a time, in-process: the RPCs the
// CLI sends for each o365_target_connection of a plan (ValidateResourceConfig,
// UpgradeResourceState, ReadResource, PlanResourceChange) against the emulated tenant, as
// the provider serves them when no log line is shown. `go test -bench NoChangePlan
// -benchmem ./internal/provider` gives the time and allocations of each RPC; with
// -cpuprofile, where they go. ReadResource includes the emulated tenant's own work (it runs
// in the same process); the other three make no request.

import (
	"context"
	"encoding/json"
	"math/big"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

// noChangePlan is one served provider, configured against the emulated tenant, with one
// connection created: the requests a no-change plan of it sends.
type noChangePlan struct {
	srv    tfprotov6.ProviderServer
	schema *tfprotov6.Schema
	typ    tftypes.Type
	config tftypes.Value
	state  tftypes.Value // after the create
}

const benchResource = "o365_target_connection"

func newNoChangePlan(tb testing.TB) *noChangePlan {
	tb.Helper()
	s, err := emulator.Start(testSeed(), emulator.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	srv, err := providerserver.NewProtocol6WithError(New("bench", WithLogs(false))())()
	if err != nil {
		tb.Fatal(err)
	}
	sr, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil || diagsFail(sr.Diagnostics) {
		tb.Fatalf("schema: %v %v", err, sr.Diagnostics)
	}
	p := &noChangePlan{srv: srv, schema: sr.ResourceSchemas[benchResource]}
	p.typ = p.schema.ValueType()

	endpoints := tftypes.NewValue(objectType(tb, sr.Provider.ValueType()).AttributeTypes["endpoints"], map[string]tftypes.Value{
		"login": tftypes.NewValue(tftypes.String, s.URL()), "graph": tftypes.NewValue(tftypes.String, s.URL()),
		"exchange": tftypes.NewValue(tftypes.String, s.URL()),
	})
	pc := objectOf(tb, sr.Provider.ValueType(), map[string]tftypes.Value{
		"endpoints":           endpoints,
		"ca_certificate_file": tftypes.NewValue(tftypes.String, s.CAFile()),
		"max_retries":         tftypes.NewValue(tftypes.Number, 0),
	})
	cr, err := srv.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: dynamic(tb, sr.Provider.ValueType(), pc)})
	if err != nil || diagsFail(cr.Diagnostics) {
		tb.Fatalf("configure: %v %v", err, cr.Diagnostics)
	}

	p.config = objectOf(tb, p.typ, map[string]tftypes.Value{
		"name":        tftypes.NewValue(tftypes.String, "Target"),
		"admin_email": tftypes.NewValue(tftypes.String, upnFull),
		"password":    tftypes.NewValue(tftypes.String, pwFull),
	})
	null := tftypes.NewValue(p.typ, nil)
	planned := p.plan(tb, null, p.config)
	ar, err := srv.ApplyResourceChange(ctx, &tfprotov6.ApplyResourceChangeRequest{TypeName: benchResource,
		PriorState: dynamic(tb, p.typ, null), PlannedState: dynamic(tb, p.typ, planned), Config: dynamic(tb, p.typ, p.config)})
	if err != nil || diagsFail(ar.Diagnostics) {
		tb.Fatalf("create: %v %v", err, ar.Diagnostics)
	}
	p.state = p.value(tb, ar.NewState)
	return p
}

func (p *noChangePlan) validate(tb testing.TB) {
	r, err := p.srv.ValidateResourceConfig(context.Background(), &tfprotov6.ValidateResourceConfigRequest{TypeName: benchResource, Config: dynamic(tb, p.typ, p.config)})
	if err != nil || diagsFail(r.Diagnostics) {
		tb.Fatalf("validate: %v %v", err, r.Diagnostics)
	}
}

func (p *noChangePlan) upgrade(tb testing.TB) tftypes.Value {
	js, err := p.stateJSON()
	if err != nil {
		tb.Fatal(err)
	}
	r, err := p.srv.UpgradeResourceState(context.Background(), &tfprotov6.UpgradeResourceStateRequest{TypeName: benchResource, RawState: &tfprotov6.RawState{JSON: js}})
	if err != nil || diagsFail(r.Diagnostics) {
		tb.Fatalf("upgrade: %v %v", err, r.Diagnostics)
	}
	return p.value(tb, r.UpgradedState)
}

func (p *noChangePlan) read(tb testing.TB, prior tftypes.Value) tftypes.Value {
	r, err := p.srv.ReadResource(context.Background(), &tfprotov6.ReadResourceRequest{TypeName: benchResource, CurrentState: dynamic(tb, p.typ, prior)})
	if err != nil || diagsFail(r.Diagnostics) {
		tb.Fatalf("read: %v %v", err, r.Diagnostics)
	}
	return p.value(tb, r.NewState)
}

// plan asks for the plan of config over prior, with the proposed new state the CLI sends: the
// configuration's values, and the prior state's where a computed attribute is not configured.
func (p *noChangePlan) plan(tb testing.TB, prior, config tftypes.Value) tftypes.Value {
	proposed := config
	if !prior.IsNull() {
		var pv, cv map[string]tftypes.Value
		if err := prior.As(&pv); err != nil {
			tb.Fatal(err)
		}
		if err := config.As(&cv); err != nil {
			tb.Fatal(err)
		}
		out := map[string]tftypes.Value{}
		for name, v := range cv {
			out[name] = v
		}
		for _, a := range p.schema.Block.Attributes {
			if cv[a.Name].IsNull() && a.Computed {
				out[a.Name] = pv[a.Name]
			}
		}
		proposed = tftypes.NewValue(p.typ, out)
	}
	r, err := p.srv.PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{TypeName: benchResource,
		PriorState: dynamic(tb, p.typ, prior), ProposedNewState: dynamic(tb, p.typ, proposed), Config: dynamic(tb, p.typ, config)})
	if err != nil || diagsFail(r.Diagnostics) {
		tb.Fatalf("plan: %v %v", err, r.Diagnostics)
	}
	return p.value(tb, r.PlannedState)
}

func (p *noChangePlan) stateJSON() ([]byte, error) {
	return tftypesJSON(p.state)
}

func (p *noChangePlan) value(tb testing.TB, dv *tfprotov6.DynamicValue) tftypes.Value {
	v, err := dv.Unmarshal(p.typ)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// BenchmarkNoChangePlan is one connection's share of a no-change plan, RPC by RPC.
func BenchmarkNoChangePlan(b *testing.B) {
	p := newNoChangePlan(b)
	b.Run("ValidateResourceConfig", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.validate(b)
		}
	})
	b.Run("UpgradeResourceState", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.upgrade(b)
		}
	})
	b.Run("ReadResource", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.read(b, p.state)
		}
	})
	b.Run("PlanResourceChange", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.plan(b, p.state, p.config)
		}
	})
}

// TestNoChangePlanHarness checks the benchmark's own footing: the plan it measures is a
// no-change plan (the planned state is the prior state), as in `make bench`.
func TestNoChangePlanHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the emulated tenant")
	}
	p := newNoChangePlan(t)
	p.validate(t)
	up := p.upgrade(t)
	if !up.Equal(p.state) {
		t.Fatalf("upgraded state differs:\n%v\n%v", up, p.state)
	}
	read := p.read(t, up)
	if !read.Equal(p.state) {
		t.Fatalf("read state differs:\n%v\n%v", read, p.state)
	}
	if planned := p.plan(t, read, p.config); !planned.Equal(read) {
		t.Fatalf("not a no-change plan:\n%v\n%v", planned, read)
	}
}

func diagsFail(ds []*tfprotov6.Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			return true
		}
	}
	return false
}

func dynamic(tb testing.TB, typ tftypes.Type, v tftypes.Value) *tfprotov6.DynamicValue {
	dv, err := tfprotov6.NewDynamicValue(typ, v)
	if err != nil {
		tb.Fatal(err)
	}
	return &dv
}

// objectOf is an object of type typ with the given attributes and every other one null.
func objectOf(tb testing.TB, typ tftypes.Type, set map[string]tftypes.Value) tftypes.Value {
	tb.Helper()
	ot := objectType(tb, typ)
	vals := map[string]tftypes.Value{}
	for name, at := range ot.AttributeTypes {
		if v, ok := set[name]; ok {
			vals[name] = v
		} else {
			vals[name] = tftypes.NewValue(at, nil)
		}
	}
	return tftypes.NewValue(typ, vals)
}

// objectType is typ, an object type.
func objectType(tb testing.TB, typ tftypes.Type) tftypes.Object {
	tb.Helper()
	ot, ok := typ.(tftypes.Object)
	if !ok {
		tb.Fatalf("%s is not an object type", typ)
	}
	return ot
}

// tftypesJSON is v as the CLI stores it in state and sends it in UpgradeResourceState.
func tftypesJSON(v tftypes.Value) ([]byte, error) {
	g, err := plainValue(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(g)
}

func plainValue(v tftypes.Value) (any, error) {
	if v.IsNull() {
		return nil, nil
	}
	switch {
	case v.Type().Is(tftypes.String):
		var s string
		return s, v.As(&s)
	case v.Type().Is(tftypes.Bool):
		var b bool
		return b, v.As(&b)
	case v.Type().Is(tftypes.Number):
		var f big.Float
		if err := v.As(&f); err != nil {
			return nil, err
		}
		return json.Number(f.Text('g', -1)), nil
	case v.Type().Is(tftypes.Object{}):
		var m map[string]tftypes.Value
		if err := v.As(&m); err != nil {
			return nil, err
		}
		out := map[string]any{}
		for k, e := range m {
			g, err := plainValue(e)
			if err != nil {
				return nil, err
			}
			out[k] = g
		}
		return out, nil
	default: // list or set
		var l []tftypes.Value
		if err := v.As(&l); err != nil {
			return nil, err
		}
		out := []any{}
		for _, e := range l {
			g, err := plainValue(e)
			if err != nil {
				return nil, err
			}
			out = append(out, g)
		}
		return out, nil
	}
}
