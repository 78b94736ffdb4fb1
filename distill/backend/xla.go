//go:build !noxla

package backend

import "github.com/gomlx/go-xla/compute/xla"

// XLACompiled reports whether XLA support (go-xla, which needs cgo) is compiled into this binary; building with
// -tags noxla leaves it out, for faster links where no PJRT plugin is installed.
const XLACompiled = true

const noXLAReason = "no XLA PJRT plugin installed"

func xlaEnableAutoInstall(on bool) { xla.EnableAutoInstall(on) }

// InstalledXLAPlugins lists the XLA PJRT plugins go-xla finds installed (without downloading any); empty when none
// is installed or XLA is not compiled in ([XLACompiled]).
func InstalledXLAPlugins() []string { return installedPlugins() }

// installedPlugins asks go-xla for installed PJRT plugins; it never panics.
func installedPlugins() (names []string) {
	defer func() {
		if r := recover(); r != nil {
			names = nil
		}
	}()
	return xla.GetAvailablePlugins()
}
