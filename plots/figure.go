// Package plots draws the charts and image galleries of the failure-direction method: top-K subgroup fractions,
// decision-value histograms, per-class balanced accuracy, caption-check curves and galleries of the hardest and
// easiest images of a class.
//
// Every figure renders to PNG or SVG bytes ([Figure.Render]), saves to a file atomically ([Save], format from the
// extension) and shows itself with [Show]: inline under a GoNB notebook, written to a file elsewhere.
// The package only draws what it is given; it knows nothing about models, SVMs or captions.
//
//	chart, err := plots.TopK("minority share among the K hardest images", []int{10, 50, 100},
//		plots.Curve{Name: "SVM", Y: []float64{0.9, 0.8, 0.6}}, plots.Constant("base rate", 0.2, 3))
//	err = chart.Show("topk.png") // inline in GoNB; elsewhere writes the file
//
// Text uses the Liberation fonts embedded in gonum/plot, so nothing depends on system fonts and the output is the
// same on every machine (the golden-image tests rely on it). PNGs are rendered at [DPI] dots per inch.
package plots

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/faildirs/faildirs/internal/atomicfile"
	"github.com/janpfeifer/gonb/gonbui"
)

// Format names an output format: [PNG] or [SVG].
type Format string

const (
	// PNG is a raster image, as shown inline in notebooks.
	PNG Format = "png"
	// SVG is a vector image; galleries embed their pictures as PNG data inside it.
	SVG Format = "svg"
)

// DPI is the resolution of PNG output: a 6-inch-wide chart is 576 pixels wide.
const DPI = 96

// Figure is anything this package draws: a [Chart], a [Grid] of charts or a [Gallery].
type Figure interface {
	// Render draws the figure in the given format and returns the encoded bytes.
	Render(format Format) ([]byte, error)
}

// FormatOf returns the format named by a file's extension (".png" or ".svg", any case).
func FormatOf(path string) (Format, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		return PNG, nil
	case ".svg":
		return SVG, nil
	default:
		return "", fmt.Errorf("plots: file %q: unsupported extension %q (want .png or .svg)", path, ext)
	}
}

// Save renders f in the format named by path's extension and writes it atomically (a temporary file in the same
// directory, renamed into place), creating the directory if needed.
func Save(f Figure, path string) error {
	format, err := FormatOf(path)
	if err != nil {
		return err
	}
	data, err := f.Render(format)
	if err != nil {
		return fmt.Errorf("plots: rendering %q: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("plots: creating directory for %q: %w", path, err)
	}
	return atomicfile.WriteBytes(path, data)
}

// display and inNotebook are variables so tests can observe Show without a GoNB kernel.
var (
	display    = gonbui.DisplayPNG
	inNotebook = func() bool { return gonbui.IsNotebook }
)

// Show displays f inline as a PNG when running under a GoNB notebook (path is then ignored and may be empty);
// elsewhere it saves f to path (format from the extension) and fails when path is empty.
func Show(f Figure, path string) error {
	if inNotebook() {
		data, err := f.Render(PNG)
		if err != nil {
			return fmt.Errorf("plots: rendering for display: %w", err)
		}
		display(data)
		return nil
	}
	if path == "" {
		return fmt.Errorf("plots: Show outside a notebook needs a file path to write to")
	}
	return Save(f, path)
}

// checkFormat rejects formats other than PNG and SVG.
func checkFormat(format Format) error {
	if format != PNG && format != SVG {
		return fmt.Errorf("plots: unsupported format %q (want %q or %q)", format, PNG, SVG)
	}
	return nil
}
