package experiment

import (
	"context"
	"os"
	"testing"
)

func TestQuickstartDev(t *testing.T) {
	if os.Getenv("PL_DEV") == "" {
		t.Skip("dev")
	}
	spec := Quickstart()
	spec.Work = "/tmp/pl_dev/work"
	p, err := New(nil, spec, Options{Log: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, err := p.WriteOutputs(context.Background(), "/tmp/pl_dev/out")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", s.Surfacing.Views[0].Table)
}
