package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnitVerifies runs systemd-analyze verify on the shipped unit, with its
// ExecStart pointed at a real executable (the unit names /opt/kpimon/kpimon, which a test
// machine does not have): no error and no warning.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze := needProgram(t, "systemd-analyze")
	unit, err := os.ReadFile(filepath.Join("..", "..", "release", "kpimon.service"))
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unit), "ExecStart=/opt/kpimon/kpimon serve ") {
		t.Fatal("the unit no longer starts /opt/kpimon/kpimon serve")
	}
	path := filepath.Join(t.TempDir(), "kpimon.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/opt/kpimon/kpimon", exe)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", "--man=no", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
