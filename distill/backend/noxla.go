//go:build noxla

package backend

// XLACompiled reports whether XLA support is compiled into this binary: not with -tags noxla, which leaves out
// go-xla (and its cgo), so that programs link fast (notebook cells on machines without a PJRT plugin).
const XLACompiled = false

const noXLAReason = "built without XLA (-tags noxla)"

func xlaEnableAutoInstall(bool) {}

// InstalledXLAPlugins returns nothing without XLA support.
func InstalledXLAPlugins() []string { return nil }

func installedPlugins() []string { return nil }
